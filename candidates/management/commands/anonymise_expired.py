"""Anonymise the candidates whose retention period ended (settings.CQPM["RETENTION_YEARS"]).

Run it daily (cron / Celery beat). `--dry-run` lists what would be anonymised (references only).
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from candidates.selectors import candidates_due_for_anonymisation
from candidates.services import anonymise_candidate
from core.exceptions import BusinessRuleError


class Command(BaseCommand):
    help = "Anonymise les candidats dont la durée de conservation est échue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Affiche les candidats concernés sans rien modifier."
        )

    def handle(self, *args, dry_run=False, **options):
        years = settings.CQPM["RETENTION_YEARS"]
        due = list(candidates_due_for_anonymisation().values_list("pk", "reference"))
        if dry_run:
            self.stdout.write(
                f"{len(due)} candidat(s) à anonymiser (conservation de {years} ans échue) — simulation :"
            )
            for _pk, reference in due:
                self.stdout.write(f"  {reference}")
            return
        done = 0
        for pk, reference in due:
            try:
                anonymise_candidate(candidate=candidates_due_for_anonymisation().get(pk=pk), by=None)
            except BusinessRuleError as exc:
                self.stderr.write(f"{reference} : {exc.message}")
                continue
            done += 1
        self.stdout.write(self.style.SUCCESS(f"{done} candidat(s) anonymisé(s)."))
