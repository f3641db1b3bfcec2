"""CSV import of N candidates through the candidates app's import jobs (issue 9): validation, then commit.

Run by bench/bench.py against the bench database: `python bench/csv_import.py 10000`. Prints progress
on stderr and one JSON line on stdout. The rows go to a centre of their own (code BENCH-IMPORT) whose
candidates and import jobs are deleted before and after the run, so the bench data stays the same
run after run.

The path measured is the one the pages use: the file is stored as an `ImportJob`
(`services.create_import_job` stores it; its task is not queued here), then the two task bodies run
in this process, exactly as the Celery tasks call them:
- validation: `services.run_import_validation(job_id)` — reads the stored file (`read_table`),
  checks every row with the registration rules, records counts and errors, job « prêt à importer »;
- commit: `services.run_import_commit(job_id)` after `services.confirm_import_job` — reads the file
  again, checks the rows again, then writes everything in one transaction, job « importé ».
Each step gives wall time, CPU time of this process (`process_time`, independent of the machine's
load) and the number of SQL queries. The run is bounded by BENCH_IMPORT_TIMEOUT seconds (240) only
in the sense that a step slower than that is reported as such (the steps cannot be interrupted).
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
os.environ.setdefault("CQPM_BENCH", "1")  # the development-only bench app (bench.scale)

CENTRE_CODE = "BENCH-IMPORT"


def log(message):
    print(message, file=sys.stderr, flush=True)


def make_csv(rows, *, companies, certification_code):
    from bench.scale import FEMALE_FIRST, LAST_NAMES, MALE_FIRST

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
                (born + timedelta(days=index)).strftime("%d/%m/%Y"),  # unique: no duplicate
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
    """Remove what an earlier run imported into the bench centre (not the centre, its companies)."""
    from candidates.models import Candidate, ImportJob

    Candidate.objects.filter(centre=centre).delete()
    for job in ImportJob.objects.filter(centre=centre):
        if job.file:
            job.file.delete(save=False)
        job.delete()


SLOWEST = {}


def measure(step, name=""):
    """(result, wall s, CPU s, queries) of step(); the SQL time and slowest statements go to SLOWEST."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        wall, cpu = time.perf_counter(), time.process_time()
        result = step()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    timed = sorted(((float(q["time"]), q["sql"][:70]) for q in queries.captured_queries), reverse=True)
    SLOWEST[name] = {"sql_s": round(sum(t for t, _sql in timed), 3), "slowest": timed[:5]}
    return result, wall, cpu, len(queries)


def main(rows):
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from bench.scale import ensure_referential
    from candidates import importing, services
    from candidates.models import Candidate, Company, ImportJobStatus, Tutor
    from core.models import CertificationCentre, Role, User

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
            from bench.scale import _luhn_siret

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
    result = {"rows": rows, "bytes": len(content), "refused": "", "files": 1, "max_rows": importing.MAX_ROWS}
    budget = float(os.environ.get("BENCH_IMPORT_TIMEOUT", 240))

    # The upload (what the page does before queueing the validation task): content check + storage.
    upload = SimpleUploadedFile("candidats.csv", content, content_type="text/csv")
    job, wall, cpu, queries = measure(
        lambda: _create_without_queueing(services, centre=centre, uploaded_file=upload, by=staff)
    )
    result.update(upload_s=wall, upload_cpu_s=cpu, upload_queries=queries)

    log(f"Vérification de {rows} lignes (tâche validate_import, dans ce processus)…")
    job, wall, cpu, queries = measure(lambda: services.run_import_validation(job.pk), "validation")
    result.update(validation_s=wall, validation_cpu_s=cpu, validation_queries=queries)
    result["job_status_after_validation"] = job.status
    if job.status != ImportJobStatus.READY:
        result["refused"] = job.message or f"{job.error_count} ligne(s) en erreur"
        first = job.errors[:1]
        log(f"Import refusé : {result['refused']} {first}")
        result.update(commit_s=0.0, commit_cpu_s=0.0, commit_queries=0, imported_rows=0)
    else:
        log(f"{job.valid_count} lignes valides en {wall:.1f} s ({cpu:.1f} s CPU, {queries} requêtes).")
        _confirm_without_queueing(services, job=job, by=staff)
        log("Enregistrement (tâche commit_import, dans ce processus)…")
        job, wall, cpu, queries = measure(lambda: services.run_import_commit(job.pk), "commit")
        result.update(commit_s=wall, commit_cpu_s=cpu, commit_queries=queries)
        result["imported_rows"] = job.imported_count
        log(f"{job.imported_count} candidats importés en {wall:.1f} s ({cpu:.1f} s CPU, {queries} requêtes).")
    result["job_status"] = job.status
    result["in_database"] = Candidate.objects.filter(centre=centre).count()
    result["validation_sql_s"] = SLOWEST.get("validation", {}).get("sql_s", 0.0)
    result["commit_sql_s"] = SLOWEST.get("commit", {}).get("sql_s", 0.0)
    for name, info in SLOWEST.items():
        log(f"{name} : SQL {info['sql_s']:.1f} s ; plus lentes : {info['slowest']}")
    result["extrapolated"] = False
    result["measured_rows"] = rows
    result["over_budget"] = result["validation_s"] + result["commit_s"] > budget
    log("Nettoyage…")
    clean(centre)
    print(json.dumps(result))


def _create_without_queueing(services, **kwargs):
    """`create_import_job` without queueing its task (this process runs the task bodies itself)."""
    from unittest import mock

    from candidates import tasks

    with mock.patch.object(tasks.validate_import, "delay"):
        return services.create_import_job(**kwargs)


def _confirm_without_queueing(services, **kwargs):
    from unittest import mock

    from candidates import tasks

    with mock.patch.object(tasks.commit_import, "delay"):
        return services.confirm_import_job(**kwargs)


if __name__ == "__main__":
    main(int(sys.argv[1]))
