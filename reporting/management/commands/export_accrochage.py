"""manage.py export_accrochage --centre CODE --from DATE --to DATE -o FILE

Writes the « accrochage » XML of the centre's holders issued in the period (deliberation date) and
records the batch. When a holder cannot be reported (missing birth place, ...) nothing is written:
every anomaly is listed on stderr with the candidate's reference and name, and the exit status is 1.
"""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import BusinessRuleError
from core.models import CertificationCentre
from reporting import selectors
from reporting.services import AccrochageValidationError, ExportScope, export_accrochage


def iso_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Date invalide « {value} » : format attendu AAAA-MM-JJ.") from exc


class Command(BaseCommand):
    help = "Exporte au format XML les titulaires du CQPM d'un centre et d'une période (accrochage SI CPF)."

    def add_arguments(self, parser):
        parser.add_argument("--centre", required=True, help="Code du centre de certification (ex. A).")
        parser.add_argument(
            "--from", dest="date_from", required=True, help="Début (AAAA-MM-JJ) : date de délivrance."
        )
        parser.add_argument("--to", dest="date_to", required=True, help="Fin incluse (AAAA-MM-JJ).")
        parser.add_argument("-o", "--output", required=True, help="Fichier XML à écrire.")
        parser.add_argument(
            "--unreported-only", action="store_true", help="Seulement les titulaires jamais déclarés."
        )

    def handle(self, *args, **options):
        centre = CertificationCentre.objects.filter(code=options["centre"]).first()
        if centre is None:
            raise CommandError(f"Centre inconnu : {options['centre']}")
        scope = ExportScope(
            centre=centre,
            date_from=iso_date(options["date_from"]),
            date_to=iso_date(options["date_to"]),
            unreported_only=options["unreported_only"],
        )
        try:
            batch, content = export_accrochage(actor=None, outcomes=selectors.holder_outcomes(), scope=scope)
        except AccrochageValidationError as exc:
            for error in exc.errors:
                self.stderr.write(f"{error.reference} — {error.name} — {error.field} : {error.message}")
            raise CommandError(exc.message) from exc
        except BusinessRuleError as exc:
            raise CommandError(exc.message) from exc
        Path(options["output"]).write_bytes(content)
        self.stdout.write(
            self.style.SUCCESS(
                f"{batch.record_count} titulaire(s) déclaré(s) dans {options['output']} (export n° {batch.pk})."
            )
        )
