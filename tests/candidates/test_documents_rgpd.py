import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from candidates import services
from candidates.models import Candidate, CandidateDocument, CandidateStatus, DocumentKind
from core.exceptions import BusinessRuleError
from core.models import AuditEvent
from tests.candidates.factories import MINIMAL_PDF, CandidateDocumentFactory, CandidateFactory

EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200


def stored_files():
    root = Path(settings.MEDIA_ROOT)
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.django_db
def test_upload_records_hash_and_stores_under_a_random_path(staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    upload = SimpleUploadedFile("Rapport de Julie DURAND.pdf", MINIMAL_PDF, content_type="application/pdf")
    document = services.upload_document(
        candidate=candidate, kind=DocumentKind.REPORT, uploaded_file=upload, by=staff_a
    )
    import hashlib

    assert document.sha256 == hashlib.sha256(MINIMAL_PDF).hexdigest()
    assert document.size == len(MINIMAL_PDF)
    assert document.content_type == "application/pdf"
    assert document.original_name == "Rapport de Julie DURAND.pdf"
    assert "DURAND" not in document.file.name and candidate.reference not in document.file.name
    assert document.file.name.startswith("candidates/documents/") and document.file.name.endswith(".pdf")
    assert default_storage.open(document.file.name).read() == MINIMAL_PDF
    event = AuditEvent.objects.get(action="candidate_document.uploaded")
    assert event.data["sha256"] == document.sha256


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rapport.pdf", EXECUTABLE, "type accepté"),
        ("rapport.pdf", ELF, "type accepté"),
        ("photo.png", b"just some text pretending", "type accepté"),
        ("vide.pdf", b"", "vide"),
    ],
)
def test_bad_files_are_refused_and_nothing_stored_is_lost(staff_a, centre_a, name, content, message):
    candidate = CandidateFactory(centre=centre_a)
    kept = CandidateDocumentFactory(candidate=candidate)
    before = stored_files()
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    with pytest.raises(BusinessRuleError, match=message):
        services.upload_document(
            candidate=candidate, kind=DocumentKind.REPORT, uploaded_file=upload, by=staff_a
        )
    assert list(candidate.documents.all()) == [kept]
    assert stored_files() == before
    assert kept.file.open("rb").read() == MINIMAL_PDF


@pytest.mark.django_db
def test_oversized_file_refused(staff_a, centre_a, settings):
    settings.MAX_UPLOAD_SIZE = 100
    candidate = CandidateFactory(centre=centre_a)
    upload = SimpleUploadedFile("gros.pdf", MINIMAL_PDF + b"%" * 200)
    with pytest.raises(BusinessRuleError, match="trop volumineux"):
        services.upload_document(
            candidate=candidate, kind=DocumentKind.REPORT, uploaded_file=upload, by=staff_a
        )
    assert not CandidateDocument.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("due_in_days", "kind", "late"),
    [
        (-1, DocumentKind.REPORT, True),
        (0, DocumentKind.REPORT, False),
        (5, DocumentKind.REPORT, False),
        (None, DocumentKind.REPORT, False),
        (-1, DocumentKind.EVIDENCE, False),
    ],
)
def test_late_report_is_flagged(staff_a, centre_a, due_in_days, kind, late):
    candidate = CandidateFactory(centre=centre_a)
    candidate.dossier.report_due_date = (
        None if due_in_days is None else timezone.localdate() + datetime.timedelta(days=due_in_days)
    )
    candidate.dossier.save()
    document = services.upload_document(
        candidate=candidate, kind=kind, uploaded_file=SimpleUploadedFile("r.pdf", MINIMAL_PDF), by=staff_a
    )
    assert document.is_late is late


@pytest.mark.django_db
def test_staff_of_another_centre_cannot_upload(staff_b, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    with pytest.raises(BusinessRuleError):
        services.upload_document(
            candidate=candidate,
            kind=DocumentKind.REPORT,
            uploaded_file=SimpleUploadedFile("r.pdf", MINIMAL_PDF),
            by=staff_b,
        )
    assert not CandidateDocument.objects.exists()


# --- RGPD -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_personal_data_archive_holds_json_and_documents(staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, birth_name="Lemoine", first_names="Paul")
    document = CandidateDocumentFactory(candidate=candidate, original_name="mon rapport.pdf")
    services.withdraw_candidate(candidate=candidate, by=staff_a, reason="Déménagement")
    archive = zipfile.ZipFile(io.BytesIO(services.export_personal_data(candidate=candidate, by=staff_a)))
    names = archive.namelist()
    assert "candidat.json" in names
    assert f"documents/{document.pk}-mon rapport.pdf" in names
    assert archive.read(f"documents/{document.pk}-mon rapport.pdf") == MINIMAL_PDF
    data = json.loads(archive.read("candidat.json"))
    summary = data["candidate"]
    assert summary["identity"]["birth_name"] == "Lemoine"
    assert summary["reference"] == candidate.reference
    assert [c["number"] for c in summary["dossier"]["competencies"]] == [1, 2, 3]
    assert summary["status_history"][-1]["reason"] == "Déménagement"
    assert summary["documents"][0]["sha256"] == document.sha256
    # Generic records: every row pointing at the candidate, and the rows under them.
    assert "candidates.dossier" in data["records"]
    assert len(data["records"]["candidates.dossiercompetency"]) == 3
    assert AuditEvent.objects.filter(
        action="candidate.personal_data_exported", target_id=str(candidate.pk)
    ).exists()


def closed_candidate(centre, *, years_ago, status=CandidateStatus.DELIBERATED, **kwargs):
    candidate = CandidateFactory(centre=centre, status=status, **kwargs)
    Candidate.objects.filter(pk=candidate.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=365 * years_ago + 2)
    )
    candidate.refresh_from_db()
    return candidate


@pytest.mark.django_db
def test_anonymise_expired_command(centre_a, settings, django_capture_on_commit_callbacks):
    settings.CQPM = {**settings.CQPM, "RETENTION_YEARS": 6}
    expired = closed_candidate(centre_a, years_ago=7, birth_name="Secret", email="secret@exemple.test")
    withdrawn = closed_candidate(centre_a, years_ago=7, status=CandidateStatus.WITHDRAWN)
    recent = closed_candidate(centre_a, years_ago=5)
    still_open = closed_candidate(centre_a, years_ago=8, status=CandidateStatus.IN_EVALUATION)
    document = CandidateDocumentFactory(candidate=expired)
    file_path = Path(settings.MEDIA_ROOT) / document.file.name
    out = io.StringIO()
    call_command("anonymise_expired", "--dry-run", stdout=out)
    assert "2 candidat(s)" in out.getvalue() and expired.reference in out.getvalue()
    assert "Secret" not in out.getvalue()
    expired.refresh_from_db()
    assert expired.anonymised_at is None and file_path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("anonymise_expired", stdout=io.StringIO())
    expired.refresh_from_db()
    assert expired.anonymised_at is not None
    assert expired.birth_name == "ANONYME" and expired.first_names == "" and expired.email == ""
    assert expired.address == "" and expired.phone == "" and expired.tutor is None
    # Anonymous statistics are kept.
    assert expired.birth_date == datetime.date(expired.birth_date.year, 1, 1)
    assert expired.pathway and expired.sex and expired.status == CandidateStatus.DELIBERATED
    assert expired.reference and expired.certification_id and expired.company_id
    assert not expired.documents.exists() and not file_path.exists()
    assert "Candidat anonymisé" in expired.full_name
    withdrawn.refresh_from_db()
    assert withdrawn.anonymised_at is not None
    for untouched in (recent, still_open):
        untouched.refresh_from_db()
        assert untouched.anonymised_at is None and untouched.birth_name != "ANONYME"
    event = AuditEvent.objects.filter(action="candidate.anonymised").first()
    assert "Secret" not in event.message
    # Running again changes nothing.
    out = io.StringIO()
    call_command("anonymise_expired", stdout=out)
    assert "0 candidat(s)" in out.getvalue()


@pytest.mark.django_db
def test_retention_is_a_setting(centre_a, settings):
    candidate = closed_candidate(centre_a, years_ago=3)
    settings.CQPM = {**settings.CQPM, "RETENTION_YEARS": 6}
    call_command("anonymise_expired", stdout=io.StringIO())
    candidate.refresh_from_db()
    assert candidate.anonymised_at is None
    settings.CQPM = {**settings.CQPM, "RETENTION_YEARS": 2}
    call_command("anonymise_expired", stdout=io.StringIO())
    candidate.refresh_from_db()
    assert candidate.anonymised_at is not None


@pytest.mark.django_db
def test_status_reasons_are_erased_and_open_candidates_refused(staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    with pytest.raises(BusinessRuleError, match="en cours"):
        services.anonymise_candidate(candidate=candidate)
    services.withdraw_candidate(candidate=candidate, by=staff_a, reason="Julie a déménagé")
    services.anonymise_candidate(candidate=candidate)
    assert list(candidate.status_changes.values_list("reason", flat=True)) == [""]
    with pytest.raises(BusinessRuleError, match="anonymisé"):
        services.export_personal_data(candidate=Candidate.objects.get(pk=candidate.pk), by=staff_a)
