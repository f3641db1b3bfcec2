"""Import candidates from a CSV or XLSX file into one centre: all or nothing (see candidates.importing)."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from candidates.importing import ImportFileError, read_table
from candidates.services import import_candidates
from core.models import CertificationCentre


class Command(BaseCommand):
    help = "Importe des candidats depuis un fichier CSV ou XLSX (tout ou rien)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Fichier CSV (séparateur ; ou ,) ou XLSX.")
        parser.add_argument("--centre", required=True, help="Code du centre de certification (ex. A).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Vérifie le fichier sans rien enregistrer."
        )

    def handle(self, *args, file, centre, dry_run=False, **options):
        try:
            centre_obj = CertificationCentre.objects.get(code=centre)
        except CertificationCentre.DoesNotExist:
            raise CommandError(f"Centre inconnu : {centre}")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {file}")
        with path.open("rb") as handle:
            try:
                rows = read_table(File(handle, name=path.name))
            except ImportFileError as exc:
                raise CommandError(str(exc))
        report = import_candidates(centre=centre_obj, rows=rows, by=None, dry_run=dry_run)
        for row in report.error_rows:
            for error in row.errors:
                self.stderr.write(f"Ligne {row.line} : {error}")
        if report.error_rows:
            raise CommandError(
                f"{len(report.error_rows)} ligne(s) en erreur sur {len(report.rows)} : aucun candidat importé."
            )
        if dry_run:
            self.stdout.write(f"{len(report.rows)} ligne(s) valides (simulation : rien n'a été enregistré).")
            return
        self.stdout.write(self.style.SUCCESS(f"{len(report.rows)} candidat(s) importé(s)."))
