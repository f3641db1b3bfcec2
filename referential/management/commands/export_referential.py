"""manage.py export_referential CODE [--version N] [-o FILE] — see docs/referential-format.md."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from referential import formats
from referential.models import Certification
from referential.selectors import with_full_content


class Command(BaseCommand):
    help = (
        "Exporte une version d'un référentiel au format JSON « cqpm-referential ». Sans --version : la version "
        "en vigueur, à défaut la plus récente."
    )

    def add_arguments(self, parser):
        # Django's base "--version" (the Django version) gives way to the referential's version number.
        parser.conflict_handler = parser._optionals.conflict_handler = "resolve"
        parser.add_argument("code", help="Code du référentiel, par exemple CQPM-CRH.")
        parser.add_argument("--version", dest="ref_version", type=int, help="Numéro de version.")
        parser.add_argument("-o", "--output", help="Fichier de sortie (par défaut : sortie standard).")

    def handle(self, *args, code, ref_version, output, **options):
        versions = Certification.objects.filter(code=code)
        if ref_version is not None:
            certification = versions.filter(version=ref_version).first()
        else:
            certification = Certification.objects.in_force(code) or versions.order_by("-version").first()
        if certification is None:
            suffix = f" version {ref_version}" if ref_version is not None else ""
            raise CommandError(f"Référentiel introuvable : {code}{suffix}.")
        certification = with_full_content(Certification.objects.filter(pk=certification.pk)).get()
        text = formats.dumps(formats.serialise(certification))
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Référentiel {code} version {certification.version} écrit dans {output}.")
        else:
            self.stdout.write(text, ending="")
