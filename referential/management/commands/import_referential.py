"""manage.py import_referential FILE [--if-absent] [--publish] — see docs/referential-format.md."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from referential import formats, services
from referential.models import Certification


class Command(BaseCommand):
    help = (
        "Importe un référentiel CQPM au format JSON « cqpm-referential » comme version brouillon. "
        "Le fichier est entièrement validé d'abord : à la moindre erreur, rien n'est importé."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Chemin du fichier JSON.")
        parser.add_argument(
            "--if-absent",
            action="store_true",
            help="Ne rien faire si cette version (code + version) existe déjà.",
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publier la version importée (la version en vigueur du même code est archivée).",
        )

    def handle(self, *args, file, if_absent, publish, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {file}")
        content = path.read_bytes()
        if if_absent:
            data, errors = formats.parse_json(content)
            if not errors and isinstance(data, dict):
                existing = Certification.objects.filter(
                    code=data.get("code"), version=data.get("version")
                ).first()
                if existing:
                    self.stdout.write(
                        f"Le référentiel {existing.code} version {existing.version} existe déjà "
                        f"({existing.get_status_display().lower()}) : rien à faire."
                    )
                    return
        try:
            certification = services.import_certification_file(content=content)
            if publish:
                certification = services.publish(certification=certification)
        except services.ReferentialImportError as exc:
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(exc.message) from exc
        except services.BusinessRuleError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Référentiel {certification.code} version {certification.version} importé "
                f"({certification.get_status_display().lower()}) : {certification.blocks.count()} blocs, "
                f"{certification.competencies.count()} compétences."
            )
        )
