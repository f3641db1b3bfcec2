"""manage.py seed_scale --centres 20 --candidates 20000 [--jury-session-size 300] [--if-absent]

National-scale data for benchmarks (see bench/scale.py and docs/performance.md). Demo accounts use the
demo password: refused with production settings, like seed_demo.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bench.scale import (
    ADMIN_USERNAME,
    BENCH_CENTRE_CODE,
    USERNAME_PREFIX,
    ScaleBuilder,
    ScaleOptions,
    scale_data_present,
)


def positive(value):
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Remplit la base avec des données de volume cohérentes (centres, entreprises, candidats, "
        "évaluations, délibérations) pour les mesures de performance."
    )

    def add_arguments(self, parser):
        parser.add_argument("--centres", type=positive, default=20, help="Nombre de centres (défaut : 20).")
        parser.add_argument(
            "--candidates", type=positive, default=20000, help="Nombre de candidats (défaut : 20 000)."
        )
        parser.add_argument(
            "--jury-session-size",
            type=positive,
            default=300,
            help="Candidats des deux sessions de délibération de référence du premier centre (défaut : 300).",
        )
        parser.add_argument(
            "--chunk-size", type=positive, default=1000, help="Candidats écrits par lot (défaut : 1 000)."
        )
        parser.add_argument("--seed", type=int, default=9, help="Graine du générateur aléatoire.")
        parser.add_argument(
            "--if-absent",
            action="store_true",
            help="Ne rien faire si les données de volume sont déjà présentes.",
        )

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError("Les données de volume sont interdites avec ces réglages (production).")
        if scale_data_present():
            if options["if_absent"]:
                self.stdout.write("Les données de volume sont déjà présentes : rien à faire.")
                return
            raise CommandError(
                f"Les données de volume sont déjà présentes (centre {BENCH_CENTRE_CODE}). "
                "Utilisez une base vide ou --if-absent."
            )
        if options["jury_session_size"] * 3 > options["candidates"] // options["centres"]:
            self.stderr.write(
                "Attention : le premier centre a moins de 3 × --jury-session-size candidats ; "
                "les sessions de référence seront plus petites."
            )
        builder = ScaleBuilder(
            ScaleOptions(
                centres=options["centres"],
                candidates=options["candidates"],
                jury_session_size=options["jury_session_size"],
                chunk_size=options["chunk_size"],
                seed=options["seed"],
            ),
            stdout=self.stdout if options["verbosity"] >= 1 else None,
        )
        report = builder.build()
        rows = sum(report.counts.values())
        cpu = f"processeur : {report.cpu_seconds:.1f} s pour cette commande"
        if report.database_cpu_seconds is not None:
            cpu += f", {report.database_cpu_seconds:.1f} s pour le serveur PostgreSQL"
        self.stdout.write(self.style.SUCCESS(f"{rows} lignes écrites en {report.seconds:.1f} s ({cpu})."))
        if options["verbosity"] >= 2:
            for label in sorted(report.counts, key=lambda name: -report.timings.get(name, 0)):
                self.stdout.write(
                    f"  {label:<40} {report.counts[label]:>9} lignes  {report.timings.get(label, 0):6.1f} s"
                )
        self.stdout.write(
            f"Comptes (mot de passe de démonstration) : {ADMIN_USERNAME}, {USERNAME_PREFIX}staff-{BENCH_CENTRE_CODE.lower()}-1, "
            f"{USERNAME_PREFIX}evaluator-{BENCH_CENTRE_CODE.lower()}-1, {USERNAME_PREFIX}jury-"
            f"{BENCH_CENTRE_CODE.lower()}-1, {USERNAME_PREFIX}tutor-<id entreprise>."
        )
