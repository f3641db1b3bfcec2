"""Load the seed referential and the demo data. Idempotent: running it twice changes nothing."""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

# Each app contributes its demo data in <app>/demo.py: seed(ctx). Order matters (dependencies).
DEMO_MODULES = ["core", "referential", "candidates", "evaluations", "deliberations"]


class Command(BaseCommand):
    help = "Charge le référentiel d'exemple et les données de démonstration (idempotent)."

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError("Les données de démonstration sont interdites avec ces réglages (production).")
        ctx = {"stdout": self.stdout}
        with transaction.atomic():
            for app in DEMO_MODULES:
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.demo":
                        raise
                    continue
                module.seed(ctx)
        self.print_accounts()

    def print_accounts(self):
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(f"Comptes de démonstration (mot de passe « {DEMO_PASSWORD} ») :")
        for username, role, centres, *_ in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<12} {role.label} — centre(s) {', '.join(centres)}")
        self.stdout.write("Application : http://127.0.0.1:8000/")
