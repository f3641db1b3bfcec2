"""CSV import of N candidates through the candidates app's import (issue 9): validation, then commit.

Run by bench/bench.py against the bench database: `python bench/csv_import.py 10000`. Prints progress
on stderr and one JSON line on stdout. The rows go to a centre of their own (code BENCH-IMPORT) whose
candidates are deleted before and after the run, so the bench data stays the same run after run.

The file is read with `candidates.importing.read_table` (as the upload form does); if the app caps
the number of rows per file, the same rows are imported in files of that size and the refusal is
reported. The run is bounded by BENCH_IMPORT_TIMEOUT seconds (240): past it, the remaining files
are not imported and the totals are extrapolated from the rate so far (said so in the output).
Validation is `services.import_candidates(dry_run=True)` (the preview), commit the same
call without dry_run (the confirmation), as the staff user of that centre.
"""

import csv
import io
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqpm.settings")

CENTRE_CODE = "BENCH-IMPORT"


def log(message):
    print(message, file=sys.stderr, flush=True)


def make_csv(rows, *, companies, certification_code):
    from core.scale import FEMALE_FIRST, LAST_NAMES, MALE_FIRST

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(
        [
            "nom_naissance",
            "prenoms",
            "sexe",
            "date_naissance",
            "lieu_naissance",
            "email",
            "telephone",
            "code_postal",
            "ville",
            "parcours",
            "siret_entreprise",
            "email_tuteur",
            "cqpm",
            "consentement",
        ]
    )
    born = date(1970, 1, 1)
    for index in range(rows):
        female = index % 2 == 0
        first = (FEMALE_FIRST if female else MALE_FIRST)[index % 23]
        last = LAST_NAMES[index % len(LAST_NAMES)]
        company = companies[index % len(companies)] if index % 10 else None  # 1 in 10: job seeker
        writer.writerow(
            [
                last.upper(),
                first,
                "F" if female else "M",
                (born + timedelta(days=index)).strftime("%d/%m/%Y"),  # unique: no duplicate warning
                "Nancy",
                f"import{index}@exemple.test",
                "06 00 00 00 00",
                "54000",
                "Nancy",
                "salarie" if company else "demandeur_emploi",
                company.siret if company else "",
                company.main_tutor_email if company else "",
                certification_code,
                "oui",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def clean(centre):
    """Remove the candidates an earlier run imported into the bench centre (not the centre)."""
    from candidates.models import Candidate

    Candidate.objects.filter(centre=centre).delete()


def main(rows):
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from candidates import importing, services
    from candidates.models import Candidate, Company, Tutor
    from core.models import CertificationCentre, Role, User
    from core.scale import ensure_referential

    certification = ensure_referential()
    with transaction.atomic():
        centre, _created = CertificationCentre.objects.get_or_create(
            code=CENTRE_CODE,
            defaults={"name": "Centre du banc d'import", "city": "Nancy", "postcode": "54000"},
        )
        staff, _created = User.objects.get_or_create(
            username="scale-import-staff",
            defaults={"role": Role.STAFF, "first_name": "Irène", "last_name": "Import"},
        )
        staff.centres.add(centre)
        companies = list(Company.objects.filter(centre=centre).order_by("pk"))
        if not companies:
            from core.scale import _luhn_siret

            for number in range(1, 21):
                company = Company.objects.create(
                    centre=centre, name=f"Entreprise importée {number}", siret=_luhn_siret(900000 + number)
                )
                Tutor.objects.create(
                    company=company,
                    first_name="Paul",
                    last_name=f"Tuteur{number}",
                    email=f"tuteur{number}@import.test",
                )
            companies = list(Company.objects.filter(centre=centre).order_by("pk"))
    for company in companies:
        company.main_tutor_email = company.tutors.order_by("pk").first().email
    clean(centre)

    content = make_csv(rows, companies=companies, certification_code=certification.code)
    result = {"rows": rows, "bytes": len(content), "refused": ""}
    started = time.perf_counter()
    try:
        batches = [
            importing.read_table(SimpleUploadedFile("candidats.csv", content, content_type="text/csv"))
        ]
    except importing.ImportFileError as exc:
        result["refused"] = str(exc)
        # Files as large as the app accepts, but small enough for a bounded run to measure a few.
        limit = min(getattr(importing, "MAX_ROWS", rows), int(os.environ.get("BENCH_IMPORT_FILE_ROWS", 500)))
        log(f"Fichier de {rows} lignes refusé ({exc}) : import en fichiers de {limit} lignes.")
        lines = content.decode("utf-8").splitlines(keepends=True)
        header, body = lines[0], lines[1:]
        batches = [
            importing.read_table(
                SimpleUploadedFile(
                    "candidats.csv", (header + "".join(body[i : i + limit])).encode(), content_type="text/csv"
                )
            )
            for i in range(0, len(body), limit)
        ]
    result["read_s"] = time.perf_counter() - started
    result["files"] = len(batches)

    validation = commit = 0.0
    imported = errors = measured = 0
    budget = float(os.environ.get("BENCH_IMPORT_TIMEOUT", 240))
    run_started = time.perf_counter()
    for table in batches:
        if time.perf_counter() - run_started > budget:
            log(f"Limite de {budget:.0f} s atteinte après {measured} lignes : durée extrapolée.")
            break
        measured += len(table)
        started = time.perf_counter()
        report = services.import_candidates(centre=centre, rows=table, by=staff, dry_run=True)
        validation += time.perf_counter() - started
        errors += len(report.error_rows)
        if report.error_rows:
            first = report.error_rows[0]
            log(f"Ligne {first.line} refusée : {first.errors}")
            continue
        started = time.perf_counter()
        report = services.import_candidates(centre=centre, rows=table, by=staff)
        commit += time.perf_counter() - started
        imported += len(report.rows) if report.committed else 0
    # Bounded run (BENCH_IMPORT_TIMEOUT): the rest is extrapolated from the rate of the files done.
    scale = rows / measured if measured else 1.0
    result.update(
        extrapolated=measured < rows,
        measured_rows=measured,
        validation_s=validation * scale + result["read_s"],
        commit_s=commit * scale,
        imported_rows=imported,
        error_rows=errors,
        in_database=Candidate.objects.filter(centre=centre).count(),
    )
    log(f"{imported} candidats importés ; nettoyage…")
    clean(centre)
    print(json.dumps(result))


if __name__ == "__main__":
    main(int(sys.argv[1]))
