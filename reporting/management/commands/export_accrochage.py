"""manage.py export_accrochage --centre CODE --from DATE --to DATE -o FILE [--unreported-only]

Writes the CPF holders file (official flux, namespace urn:cdc:cpf:pc5:schema:1.0.0) of the centre's
holders issued in the period (deliberation date) and records the batch. Record by record: a holder
with an anomaly (missing birth commune code, CQPM not on the RNCP…) is left out and listed on stderr
with its reference, name, field and reason; the others are written. Exit status 0 with a summary when
a file was written, 1 when nothing was declarable (or the scope/settings are wrong).
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


def anomaly_line(error):
    kind = "" if error.blocking else " (avertissement, titulaire déclaré)"
    return f"{error.reference} — {error.name} — {error.field} : {error.message}{kind}"


class Command(BaseCommand):
    help = (
        "Produit le fichier de déclaration des titulaires au SI CPF (flux officiel Caisse des Dépôts) "
        "pour un centre et une période de délivrance."
    )

    def add_arguments(self, parser):
        parser.add_argument("--centre", required=True, help="Code du centre de certification (ex. A).")
        parser.add_argument(
            "--from", dest="date_from", required=True, help="Début (AAAA-MM-JJ) : date de délivrance."
        )
        parser.add_argument("--to", dest="date_to", required=True, help="Fin incluse (AAAA-MM-JJ).")
        parser.add_argument("-o", "--output", required=True, help="Fichier XML à écrire.")
        parser.add_argument(
            "--unreported-only",
            action="store_true",
            help="Seulement les titulaires à déclarer (jamais envoyés ou rejetés), pas ceux en attente du portail.",
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
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(f"Dossier inexistant : {output.parent}")
        try:
            result = export_accrochage(actor=None, outcomes=selectors.holder_outcomes(), scope=scope)
        except AccrochageValidationError as exc:
            for error in exc.errors:
                self.stderr.write(anomaly_line(error))
            raise CommandError(exc.message) from exc
        except BusinessRuleError as exc:
            raise CommandError(exc.message) from exc
        output.write_bytes(result.content)
        for error in result.anomalies:
            self.stderr.write(anomaly_line(error))
        left_out = len({e.reference for e in result.left_out})
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.batch.record_count} titulaire(s) déclaré(s) dans {output} "
                f"(export n° {result.batch.pk}, idFlux {result.batch.flux_id}) ; "
                f"{left_out} laissé(s) de côté pour anomalie."
            )
        )
