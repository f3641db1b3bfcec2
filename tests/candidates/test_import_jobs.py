"""The bulk import path (issue 9): same rules as the form, located errors, a constant number of
queries, ImportJob + Celery tasks (eager here; one test with the real worker), the job pages."""

import csv
import datetime
import io
import math
import time

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from candidates import importing, services, tasks
from candidates.importing import ImportFileError, read_table
from candidates.models import (
    Candidate,
    CandidateStatus,
    CandidateStatusChange,
    DossierCompetency,
    ImportJob,
    ImportJobStatus,
)
from core.models import AuditEvent, Role, User
from tests.candidates.factories import CandidateFactory, CompanyFactory, TutorFactory
from tests.core.factories import CentreFactory, StaffFactory, UserFactory
from tests.referential.factories import CertificationFactory

COLUMNS = [
    "nom_naissance",
    "prenoms",
    "sexe",
    "date_naissance",
    "email",
    "parcours",
    "siret_entreprise",
    "email_tuteur",
    "cqpm",
    "consentement",
]


def csv_bytes(rows, columns=COLUMNS):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode("utf-8")


def upload(rows, name="candidats.csv"):
    return SimpleUploadedFile(name, csv_bytes(rows), content_type="text/csv")


def good_rows(n, *, company, tutor, certification, prefix="Nom"):
    """n valid, distinct rows: employees with company and tutor, one in five job seekers."""
    rows = []
    for index in range(n):
        employee = index % 5
        rows.append(
            {
                "nom_naissance": f"{prefix}{index}",
                "prenoms": "Camille",
                "sexe": "F" if index % 2 else "M",
                "date_naissance": f"{1 + index % 28:02d}/{1 + index % 12:02d}/{1970 + index % 30}",
                "email": f"c{index}@exemple.test",
                "parcours": "salarié" if employee else "demandeur d'emploi",
                "siret_entreprise": company.siret if employee else "",
                "email_tuteur": tutor.email if employee else "",
                "cqpm": certification.code,
                "consentement": "oui",
            }
        )
    return rows


def table(rows):
    return [{"line": index, "values": values} for index, values in enumerate(rows, start=2)]


@pytest.fixture
def world(centre_a, staff_a, company_a, tutor_a, certification):
    return {
        "centre": centre_a,
        "staff": staff_a,
        "company": company_a,
        "tutor": tutor_a,
        "certification": certification,
    }


def rows_of(world, n, **kwargs):
    return good_rows(
        n, company=world["company"], tutor=world["tutor"], certification=world["certification"], **kwargs
    )


# --- the rules, located ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "column", "fragment"),
    [
        ({"nom_naissance": ""}, "nom_naissance", "Nom de naissance manquant"),
        ({"sexe": "X"}, "sexe", "Sexe inconnu"),
        ({"date_naissance": "31/02/1990"}, "date_naissance", "Date de naissance illisible"),
        ({"parcours": "astronaute"}, "parcours", "Parcours inconnu"),
        ({"cqpm": "CQPM INCONNU"}, "cqpm", "Aucune version en vigueur"),
        ({"siret_entreprise": "73282932000074"}, "siret_entreprise", "Aucune entreprise de ce centre"),
        ({"email_tuteur": "personne@exemple.test"}, "email_tuteur", "Aucun tuteur de cette entreprise"),
        ({"siret_entreprise": "", "email_tuteur": ""}, "siret_entreprise", "obligatoires pour ce parcours"),
        ({"consentement": "peut-être"}, "consentement", "« oui » ou « non » attendu"),
        ({"email": "pas-une-adresse"}, "email", "adresse électronique"),
        ({"nom_naissance": "N" * 151}, "nom_naissance", "nom de naissance"),
    ],
)
def test_each_rule_is_reported_on_its_line_and_column(world, change, column, fragment):
    rows = rows_of(world, 3)
    rows[1] = {**rows[1], **change}
    validation = services.validate_import_rows(centre=world["centre"], rows=table(rows), by=world["staff"])
    report = validation.report
    assert not report.is_valid
    (bad,) = report.error_rows
    assert bad.line == 3
    assert any(p.column == column and fragment in p.message for p in bad.problems), bad.problems
    assert validation.candidates and len(validation.candidates) == 2  # the other rows are fine


@pytest.mark.django_db
def test_consent_basis_without_consent_is_refused_like_the_form(world):
    rows = rows_of(world, 1)
    rows[0].update(consentement="non")
    columns = [*COLUMNS, "base_legale"]
    rows[0]["base_legale"] = "consentement"
    parsed = read_table(SimpleUploadedFile("c.csv", csv_bytes(rows, columns)))
    report = services.import_candidates(centre=world["centre"], rows=parsed, by=world["staff"])
    assert not report.committed
    assert report.error_rows[0].problems[0].column == "consentement"
    assert "consentement" in report.error_rows[0].errors[0]


@pytest.mark.django_db
def test_duplicates_with_the_centre_and_within_the_file_are_located(world):
    rows = rows_of(world, 4)
    existing = CandidateFactory(centre=world["centre"], birth_name="Déjà", first_names="Inscrit")
    rows[1].update(
        nom_naissance="DEJA", prenoms="inscrit", date_naissance=existing.birth_date.strftime("%d/%m/%Y")
    )
    rows[3] = {**rows[0]}  # line 5 repeats line 2
    report = services.validate_import_rows(centre=world["centre"], rows=table(rows), by=world["staff"]).report
    errors = {row.line: row for row in report.error_rows}
    assert set(errors) == {3, 5}
    assert errors[3].is_duplicate and "déjà inscrit" in errors[3].errors[0]
    assert errors[5].is_duplicate and "ligne 2 du fichier" in errors[5].errors[0]
    assert len(report.duplicate_rows) == 2


@pytest.mark.django_db
def test_same_person_in_another_centre_is_not_a_duplicate(world, centre_b):
    rows = rows_of(world, 1)
    CandidateFactory(
        centre=centre_b,
        birth_name=rows[0]["nom_naissance"],
        first_names=rows[0]["prenoms"],
        birth_date=importing.parse_date(rows[0]["date_naissance"]),
    )
    report = services.import_candidates(centre=world["centre"], rows=table(rows), by=world["staff"])
    assert report.committed


def test_the_cap_accepts_ten_thousand_rows_and_refuses_a_larger_file_clearly(monkeypatch):
    assert importing.MAX_ROWS >= 20000
    header = "nom_naissance;prenoms;sexe;date_naissance;parcours;cqpm\n"
    line = "A;B;F;01/01/1990;vae;X\n"
    monkeypatch.setattr(importing, "validate_upload", lambda f, allowed: type("I", (), {"kind": "csv"}))
    rows = read_table(SimpleUploadedFile("c.csv", (header + line * 10000).encode()))
    assert len(rows) == 10000 and rows[-1]["line"] == 10001
    with pytest.raises(
        ImportFileError, match=r"contient plus de 20000 lignes : au plus 20000 candidats par import"
    ):
        read_table(SimpleUploadedFile("c.csv", (header + line * 20001).encode()))


# --- what the commit writes -----------------------------------------------------------------


@pytest.mark.django_db
def test_commit_writes_candidates_history_dossiers_references_and_one_audit_event(world):
    CandidateFactory(centre=world["centre"], reference="A-2025-00007", registered_on="2025-03-01")
    rows = rows_of(world, 6)
    for row in rows[:3]:
        row["date_inscription"] = "02/03/2025"
    columns = [*COLUMNS, "date_inscription"]
    parsed = read_table(SimpleUploadedFile("c.csv", csv_bytes(rows, columns)))
    before = AuditEvent.objects.count()
    report = services.import_candidates(centre=world["centre"], rows=parsed, by=world["staff"])
    assert report.committed
    imported = Candidate.objects.filter(birth_name__startswith="Nom").order_by("pk")
    assert imported.count() == 6
    # 2025 continues after the existing number; this year's registrations get their own sequence
    year = timezone.localdate().year
    assert [c.reference for c in imported] == [
        "A-2025-00008",
        "A-2025-00009",
        "A-2025-00010",
        f"A-{year}-00001",
        f"A-{year}-00002",
        f"A-{year}-00003",
    ]
    assert len({c.reference for c in imported}) == 6
    assert [row.reference for row in report.rows] == [c.reference for c in imported]
    competencies = world["certification"].competencies.count()
    for candidate in imported:
        assert candidate.status == CandidateStatus.REGISTERED and candidate.created_by == world["staff"]
        (change,) = CandidateStatusChange.objects.filter(candidate=candidate)
        assert change.to_status == CandidateStatus.REGISTERED and change.by == world["staff"]
        assert candidate.dossier.company_opinion_applies == (candidate.tutor_id is not None)
        assert DossierCompetency.objects.filter(dossier=candidate.dossier).count() == competencies
        assert candidate.consent_given_at is not None
    events = AuditEvent.objects.order_by("pk")[before:]
    assert [event.action for event in events] == ["candidates.imported"]
    event = events[0]
    assert event.data["count"] == 6 and event.centre_id == world["centre"].pk
    text = f"{event.message} {event.data}"
    assert "Nom0" not in text and "Camille" not in text and "exemple.test" not in text


@pytest.mark.django_db
def test_one_bad_row_and_nothing_is_written(world):
    rows = rows_of(world, 20)
    rows[17]["sexe"] = "?"
    report = services.import_candidates(centre=world["centre"], rows=table(rows), by=world["staff"])
    assert not report.committed and [row.line for row in report.error_rows] == [19]
    assert not Candidate.objects.exists() and not CandidateStatusChange.objects.exists()


def insert_statements(model, n):
    """INSERT statements of a bulk_create of n rows: one per 1000 rows on PostgreSQL; SQLite caps a
    statement at 999 parameters, so Django splits the 26-column candidate rows every 38 rows."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    return math.ceil(n / min(1000, connection.ops.bulk_batch_size(fields, [None] * n)))


@pytest.mark.django_db
@pytest.mark.parametrize("n", [5, 50])
def test_validation_and_commit_run_a_constant_number_of_queries(world, django_assert_max_num_queries, n):
    rows = table(rows_of(world, n))
    staff = User.objects.get(pk=world["staff"].pk)  # nothing cached on the instance
    # the staff member's centres, versions in force, companies, tutors, duplicates of the whole file
    with django_assert_max_num_queries(5):
        validation = services.validate_import_rows(centre=world["centre"], rows=rows, by=staff)
    assert validation.report.is_valid and len(validation.candidates) == n
    validation = services.prepare_import_rows(centre=world["centre"], rows=rows, by=staff)
    # duplicates, versions in force, references, savepoint + candidates + release, history, dossiers,
    # competencies of the CQPM, dossier competencies, audit (PostgreSQL: 11 at 5 and at 50 rows)
    with django_assert_max_num_queries(10 + insert_statements(Candidate, n)):
        assert services.commit_import_rows(validation=validation, by=staff)
    assert Candidate.objects.count() == n
    if connection.vendor == "postgresql":
        assert insert_statements(Candidate, n) == 1


@pytest.mark.django_db
def test_progress_is_reported_every_chunk(world, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 4)
    seen = []
    services.prepare_import_rows(
        centre=world["centre"], rows=table(rows_of(world, 10)), by=world["staff"], progress=seen.append
    )
    assert seen == [4, 8, 10]


@pytest.mark.django_db
def test_staff_of_another_centre_cannot_import(world, staff_b):
    with pytest.raises(services.BusinessRuleError):
        services.validate_import_rows(centre=world["centre"], rows=table(rows_of(world, 1)), by=staff_b)
    with pytest.raises(services.BusinessRuleError):
        services.create_import_job(
            centre=world["centre"], uploaded_file=upload(rows_of(world, 1)), by=staff_b
        )
    assert not ImportJob.objects.exists()


# --- the job and its tasks (Celery eager) -----------------------------------------------------


def start_job(world, rows, capture):
    with capture(execute=True):
        job = services.create_import_job(
            centre=world["centre"], uploaded_file=upload(rows), by=world["staff"]
        )
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_job_lifecycle_upload_check_confirm_import(world, django_capture_on_commit_callbacks):
    job = start_job(world, rows_of(world, 12), django_capture_on_commit_callbacks)
    assert job.status == ImportJobStatus.READY
    assert (job.rows_total, job.rows_done, job.valid_count, job.error_count) == (12, 12, 12, 0)
    assert job.file and default_storage.exists(job.file.name)
    assert not Candidate.objects.exists()  # checking writes nothing
    stored = job.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_import_job(job=job, by=world["staff"])
    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE and job.imported_count == 12
    assert sorted(job.imported_ids) == sorted(Candidate.objects.values_list("pk", flat=True))
    assert job.confirmed_by == world["staff"] and job.finished_at is not None
    assert not job.file and not default_storage.exists(stored)  # personal data not kept
    event = AuditEvent.objects.get(action="candidates.imported")
    assert event.data["import_job_id"] == job.pk and event.data["count"] == 12


@pytest.mark.django_db
def test_tasks_are_idempotent(world, django_capture_on_commit_callbacks):
    job = start_job(world, rows_of(world, 3), django_capture_on_commit_callbacks)
    # validation run again on a checked job: nothing changes
    tasks.validate_import.apply(args=[job.pk])
    assert ImportJob.objects.get(pk=job.pk).status == ImportJobStatus.READY
    # the commit task before confirmation does nothing
    tasks.commit_import.apply(args=[job.pk])
    assert not Candidate.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_import_job(job=job, by=world["staff"])
    assert Candidate.objects.count() == 3
    # a re-delivered commit task on a done job does nothing
    tasks.commit_import.apply(args=[job.pk])
    tasks.validate_import.apply(args=[job.pk])
    assert Candidate.objects.count() == 3
    assert AuditEvent.objects.filter(action="candidates.imported").count() == 1
    with pytest.raises(services.BusinessRuleError, match="ne peut pas être confirmé"):
        services.confirm_import_job(job=job, by=world["staff"])


@pytest.mark.django_db
def test_commit_interrupted_then_redelivered_imports_once(world, django_capture_on_commit_callbacks):
    """A worker lost mid-commit: the job stays « import en cours », the message comes back."""
    job = start_job(world, rows_of(world, 4), django_capture_on_commit_callbacks)
    services.confirm_import_job(job=job, by=world["staff"])  # task not run (worker lost)
    assert ImportJob.objects.get(pk=job.pk).status == ImportJobStatus.COMMITTING
    tasks.commit_import.apply(args=[job.pk])
    tasks.commit_import.apply(args=[job.pk])
    assert Candidate.objects.count() == 4
    assert ImportJob.objects.get(pk=job.pk).status == ImportJobStatus.DONE


@pytest.mark.django_db
def test_checked_file_never_confirmed_is_deleted_after_a_week(world, django_capture_on_commit_callbacks):
    job = start_job(world, rows_of(world, 2), django_capture_on_commit_callbacks)
    stored = job.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_import_jobs() == 0
        ImportJob.objects.filter(pk=job.pk).update(validated_at=timezone.now() - datetime.timedelta(days=8))
        assert tasks.expire_import_jobs.apply().get() == 1
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED and "non confirmé" in job.message
    assert not job.file and not default_storage.exists(stored)
    with pytest.raises(services.BusinessRuleError):
        services.confirm_import_job(job=job, by=world["staff"])


@pytest.mark.django_db
def test_file_with_errors_gives_the_located_report_and_cannot_be_confirmed(
    world, django_capture_on_commit_callbacks
):
    rows = rows_of(world, 5)
    rows[2]["date_naissance"] = "hier"
    rows[4]["parcours"] = ""
    job = start_job(world, rows, django_capture_on_commit_callbacks)
    assert job.status == ImportJobStatus.INVALID
    assert (job.rows_total, job.valid_count, job.error_count) == (5, 3, 2)
    assert [(e["line"], e["column"]) for e in job.errors] == [(4, "date_naissance"), (6, "parcours")]
    assert not job.file  # refused file deleted
    with pytest.raises(services.BusinessRuleError):
        services.confirm_import_job(job=job, by=world["staff"])


@pytest.mark.django_db
def test_unreadable_file_is_refused_with_the_reason(world, django_capture_on_commit_callbacks):
    content = b"nom;prenoms\nA;B\n"
    with django_capture_on_commit_callbacks(execute=True):
        job = services.create_import_job(
            centre=world["centre"], uploaded_file=SimpleUploadedFile("c.csv", content), by=world["staff"]
        )
    job.refresh_from_db()
    assert job.status == ImportJobStatus.INVALID
    assert "Colonnes obligatoires absentes" in job.message


@pytest.mark.django_db
def test_executable_is_refused_at_upload(world):
    with pytest.raises(services.BusinessRuleError, match="type accepté"):
        services.create_import_job(
            centre=world["centre"],
            uploaded_file=SimpleUploadedFile("c.csv", b"MZ\x90\x00" + b"\x00" * 100),
            by=world["staff"],
        )
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_job_whose_file_is_gone_fails_with_a_clear_message(world, django_capture_on_commit_callbacks):
    job = services.create_import_job(
        centre=world["centre"], uploaded_file=upload(rows_of(world, 2)), by=world["staff"]
    )
    default_storage.delete(job.file.name)
    tasks.validate_import.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED
    assert "introuvable" in job.message and "déposez-le à nouveau" in job.message


@pytest.mark.django_db
def test_unexpected_error_fails_the_job_and_imports_nothing(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    job = start_job(world, rows_of(world, 3), django_capture_on_commit_callbacks)
    services.confirm_import_job(job=job, by=world["staff"])

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(services.imports, "_insert_candidates", broken)  # where it is looked up
    tasks.commit_import.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED
    assert "aucun candidat n'a été importé" in job.message and "disque" not in job.message
    assert not Candidate.objects.exists()


@pytest.mark.django_db
def test_a_duplicate_registered_after_the_check_stops_the_import(world, django_capture_on_commit_callbacks):
    rows = rows_of(world, 3)
    job = start_job(world, rows, django_capture_on_commit_callbacks)
    services.register_candidate(
        centre=world["centre"],
        certification=world["certification"],
        by=world["staff"],
        birth_name=rows[1]["nom_naissance"],
        first_names=rows[1]["prenoms"],
        sex="M",
        birth_date=importing.parse_date(rows[1]["date_naissance"]),
        pathway="vae",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_import_job(job=job, by=world["staff"])
    job.refresh_from_db()
    assert job.status == ImportJobStatus.INVALID and "n'est plus valide" in job.message
    assert [(e["line"], e["duplicate"]) for e in job.errors] == [(3, True)]
    assert Candidate.objects.count() == 1


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_upload_preview_confirm_and_result(client_a, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(
            reverse("candidates:import"), {"centre": world["centre"].pk, "file": upload(rows_of(world, 3))}
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "candidates:import_job", args=[job.pk]
    )
    page = client_a.get(response["Location"]).content.decode()
    assert "3 lignes vérifiées et valides" in page and "Confirmer l'import" in page
    assert not Candidate.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(reverse("candidates:import_job_confirm", args=[job.pk]))
    assert response.status_code == 302
    page = client_a.get(reverse("candidates:import_job", args=[job.pk])).content.decode()
    assert "3 candidats importés" in page
    for candidate in Candidate.objects.all():
        assert reverse("candidates:detail", args=[candidate.pk]) in page and candidate.reference in page
    # confirming again imports nothing more
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(reverse("candidates:import_job_confirm", args=[job.pk]))
    assert Candidate.objects.count() == 3
    listing = client_a.get(reverse("candidates:import")).content.decode()
    assert reverse("candidates:import_job", args=[job.pk]) in listing


@pytest.mark.django_db
def test_error_page_and_downloadable_report(client_a, world, django_capture_on_commit_callbacks):
    rows = rows_of(world, 4)
    rows[1]["sexe"] = "Z"
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(reverse("candidates:import"), {"centre": world["centre"].pk, "file": upload(rows)})
    job = ImportJob.objects.get()
    page = client_a.get(reverse("candidates:import_job", args=[job.pk])).content.decode()
    assert "1 ligne en erreur sur 4" in page and "Sexe inconnu" in page and "Confirmer l'import" not in page
    assert "/confirmer/" not in page
    report = client_a.get(reverse("candidates:import_job", args=[job.pk]), {"format": "csv"})
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["Ligne", "Colonne", "Problème"]
    assert lines[1][:2] == ["3", "sexe"] and "Sexe inconnu" in lines[1][2]


@pytest.mark.django_db
def test_progress_fragment_polls_while_running_and_reloads_when_finished(client_a, world):
    job = ImportJob.objects.create(
        centre=world["centre"],
        created_by=world["staff"],
        original_name="c.csv",
        status=ImportJobStatus.VALIDATING,
        rows_total=10000,
        rows_done=2500,
    )
    url = reverse("candidates:import_job_status", args=[job.pk])
    fragment = client_a.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'role="progressbar"' in fragment and 'aria-valuenow="25"' in fragment
    assert "2500 lignes sur 10000 (25 %)" in fragment
    assert 'hx-trigger="every 1s"' in fragment and url in fragment
    page = client_a.get(reverse("candidates:import_job", args=[job.pk])).content.decode()
    assert 'role="progressbar"' in page and "<script" not in page.split("</main>")[0].split("<main")[-1]
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.READY, rows_done=10000)
    response = client_a.get(url, HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    page = client_a.get(reverse("candidates:import_job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' not in page


@pytest.mark.django_db
def test_job_pages_of_another_centre_are_404_and_other_roles_403(client, world, centre_b):
    job = ImportJob.objects.create(
        centre=world["centre"], created_by=world["staff"], original_name="c.csv", status=ImportJobStatus.READY
    )
    urls = [
        ("get", reverse("candidates:import_job", args=[job.pk])),
        ("get", reverse("candidates:import_job_status", args=[job.pk])),
        ("post", reverse("candidates:import_job_confirm", args=[job.pk])),
    ]
    client.force_login(StaffFactory(username="staff-b", centres=[centre_b]))
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 404
    assert (
        reverse("candidates:import_job", args=[job.pk])
        not in client.get(reverse("candidates:import")).content.decode()
    )
    for role in (Role.EVALUATOR, Role.TUTOR, Role.JURY):
        client.force_login(UserFactory(username=f"u-{role}", role=role, centres=[world["centre"]]))
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 403
    assert ImportJob.objects.get(pk=job.pk).status == ImportJobStatus.READY
    # another staff member of the same centre may follow and confirm it
    client.force_login(StaffFactory(username="staff-a2", centres=[world["centre"]]))
    assert client.get(urls[0][1]).status_code == 200


# --- real worker (PostgreSQL + Redis) ----------------------------------------------------------


def _wait(predicate, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


@pytest.mark.worker
def test_200_rows_through_the_real_worker(celery_worker_process):
    centre = CentreFactory(code="W")
    staff = StaffFactory(username="staff-w", centres=[centre])
    company = CompanyFactory(centre=centre)
    tutor = TutorFactory(company=company)
    certification = CertificationFactory(code="CQPM WORKER")
    rows = good_rows(200, company=company, tutor=tutor, certification=certification)
    job = services.create_import_job(centre=centre, uploaded_file=upload(rows), by=staff)  # committed: queued
    assert _wait(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJobStatus.READY), (
        ImportJob.objects.get(pk=job.pk).message
    )
    job.refresh_from_db()
    assert (job.rows_total, job.rows_done, job.valid_count) == (200, 200, 200)
    services.confirm_import_job(job=job, by=staff)
    assert _wait(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJobStatus.DONE)
    job.refresh_from_db()
    assert job.imported_count == 200 and Candidate.objects.filter(centre=centre).count() == 200
    assert DossierCompetency.objects.filter(dossier__candidate__centre=centre).count() == 200 * (
        certification.competencies.count()
    )
