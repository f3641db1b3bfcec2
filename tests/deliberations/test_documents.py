"""The documents of a deliberation: PV content, idempotent production, crash safety, real worker."""

import hashlib
import io
import os
import re
import signal
import subprocess
import time
import zipfile

import pytest
from celery.exceptions import Retry
from django.core.files.storage import default_storage
from django.core.management import call_command
from pypdf import PdfReader

from deliberations import documents, services, tasks
from deliberations.models import DocumentKind, DocumentStatus, GeneratedDocument
from tests.deliberations.factories import ready_session


def pdf_text(document):
    with default_storage.open(document.file.name, "rb") as handle:
        content = handle.read()
    reader = PdfReader(io.BytesIO(content))
    return content, reader, "\n".join(page.extract_text() for page in reader.pages)


def decided_session(n=2, close=True, capture=None):
    session = ready_session(n=n)
    entries = list(session.entries.order_by("candidate__reference").select_related("candidate"))
    c3 = session.certification.competencies.get(number=3)
    for index, entry in enumerate(entries):
        choices = {c3.pk: ("not_acquired", "Résultat attendu non atteint.")} if index % 2 else {}
        services.record_decisions(actor=None, session=session, candidate=entry.candidate, choices=choices)
    if close:
        if capture is not None:
            with capture(execute=True):
                services.close_session(actor=None, session=session)
        else:
            services.close_session(actor=None, session=session)
    session.refresh_from_db()
    return session, [e.candidate for e in entries]


def files_of(document):
    directory = f"deliberations/{document.session_id}"
    _dirs, files = default_storage.listdir(directory)
    return sorted(name for name in files if name.startswith(f"{document.pk}-"))


@pytest.mark.django_db
def test_pv_content_hash_and_page_numbers(django_capture_on_commit_callbacks):
    session, candidates = decided_session(n=12, capture=django_capture_on_commit_callbacks)
    pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV, is_current=True)
    content, reader, text = pdf_text(pv)
    assert hashlib.sha256(content).hexdigest() == pv.sha256 and len(content) == pv.size
    pages = len(reader.pages)
    assert pages >= 2
    assert f"Page 1 / {pages}" in text and f"Page {pages} / {pages}" in text
    for candidate in candidates:
        assert candidate.reference in text
        assert candidate.birth_name.upper() in text
    assert "CQPM attribué" in text and "Résultat partiel" in text
    assert "Résultat attendu non atteint." in text  # the jury's motivation
    assert session.certification.code in text and "RNCP12345" in text
    assert pv.number in text
    assert "Collège" in text or "Employeurs" in text
    assert "président" in text.lower()


@pytest.mark.django_db
def test_certificate_and_attestation_carry_what_france_competences_requires(
    django_capture_on_commit_callbacks,
):
    session, (full, partial) = decided_session(n=2, capture=django_capture_on_commit_callbacks)
    certificate = GeneratedDocument.objects.get(session=session, kind=DocumentKind.CERTIFICATE)
    _content, _reader, text = pdf_text(certificate)
    assert certificate.candidate_id == full.pk
    for expected in (
        "Union des Industries et Métiers de la Métallurgie",
        session.certification.title,
        "RNCP12345",
        full.birth_name.upper(),
        certificate.number,
        "/deliberations/verifier/",
    ):
        assert expected in text or expected in "".join(text.split()), expected
    letter = GeneratedDocument.objects.get(session=session, kind=DocumentKind.LETTER, candidate=partial)
    _content, _reader, text = pdf_text(letter)
    assert "Bloc 1" in text and "jusqu'au" in text.replace("’", "'")
    attestation = GeneratedDocument.objects.get(session=session, kind=DocumentKind.BLOCK_ATTESTATION)
    assert attestation.candidate_id == partial.pk
    _, _, attestation_text = pdf_text(attestation)
    # Every acquired bloc says until when it stays acquired, even on a CQPM not on the RNCP.
    assert re.search(r"\d{2}/\d{2}/\d{4}", attestation_text.split("Acquis jusqu", 1)[1])


@pytest.mark.django_db
def test_running_the_same_job_twice_yields_one_current_pv(django_capture_on_commit_callbacks):
    session, _ = decided_session(n=1, capture=django_capture_on_commit_callbacks)
    pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV)
    sha = pv.sha256
    tasks.render_document.apply(args=[str(pv.pk)])
    tasks.render_document.apply(args=[str(pv.pk)])
    pv.refresh_from_db()
    assert pv.sha256 == sha and pv.attempts == 1
    assert (
        GeneratedDocument.objects.filter(session=session, kind=DocumentKind.PV, is_current=True).count() == 1
    )
    assert files_of(pv) == [pv.file.name.rsplit("/", 1)[1]]


@pytest.mark.django_db
def test_a_job_killed_after_writing_its_file_leaves_nothing_visible_and_the_retry_yields_one_pv(
    monkeypatch, django_capture_on_commit_callbacks
):
    session, _ = decided_session(n=1, close=False)
    with django_capture_on_commit_callbacks(execute=False):
        services.close_session(actor=None, session=session)
    pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV)

    class WorkerKilled(BaseException):
        """Like SIGKILL: nothing in the task catches it."""

    real_publish = documents.production._publish

    def die(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(documents.production, "_publish", die)
    with pytest.raises(WorkerKilled):
        tasks.render_document.apply(args=[str(pv.pk)], throw=True)
    pv.refresh_from_db()
    assert pv.status == DocumentStatus.RENDERING and not pv.file and not pv.is_current
    assert len(files_of(pv)) == 1  # the orphan written before the "kill", referenced by nothing
    assert not GeneratedDocument.objects.filter(
        session=session, kind=DocumentKind.PV, is_current=True
    ).exists()

    monkeypatch.setattr(documents.production, "_publish", real_publish)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.render_document.apply(args=[str(pv.pk)])  # the redelivered message (acks_late)
    pv.refresh_from_db()
    assert pv.status == DocumentStatus.DONE and pv.is_current and pv.attempts == 2
    assert files_of(pv) == [pv.file.name.rsplit("/", 1)[1]]  # the orphan is gone: exactly one file
    with default_storage.open(pv.file.name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == pv.sha256
    assert (
        GeneratedDocument.objects.filter(session=session, kind=DocumentKind.PV, is_current=True).count() == 1
    )


@pytest.mark.django_db
def test_transient_failure_is_retried_then_recorded_as_failed(monkeypatch):
    session, _ = decided_session(n=1, close=False)
    document = services.request_document(
        actor=None, session=session, kind=DocumentKind.ATTENDANCE, queue=False
    )
    calls = []

    def flaky(doc):
        calls.append(1)
        raise OSError("storage down")

    monkeypatch.setattr(documents.production, "build", flaky)
    for attempt in range(tasks.MAX_RETRIES):  # as the broker would redeliver it, with the retry count
        with pytest.raises(Retry):
            tasks.render_document.apply(args=[str(document.pk)], retries=attempt, throw=True)
        document.refresh_from_db()
        assert document.status == DocumentStatus.QUEUED and "Stockage" in document.error
    tasks.render_document.apply(args=[str(document.pk)], retries=tasks.MAX_RETRIES, throw=True)
    document.refresh_from_db()
    assert len(calls) == tasks.MAX_RETRIES + 1  # first run + bounded retries, then it gives up
    assert document.status == DocumentStatus.FAILED and "Stockage" in document.error
    assert [tasks.backoff(i) for i in range(7)] == [2, 4, 8, 16, 32, 60, 60]


@pytest.mark.django_db
def test_packs_zip_the_current_documents(django_capture_on_commit_callbacks):
    session, _ = decided_session(n=2, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        pack = services.request_document(actor=None, session=session, kind=DocumentKind.PACK)
        gtp = services.request_document(actor=None, session=session, kind=DocumentKind.GTP)
    pack.refresh_from_db()
    gtp.refresh_from_db()
    with default_storage.open(pack.file.name, "rb") as handle:
        names = zipfile.ZipFile(io.BytesIO(handle.read())).namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == 6 and "SHA256SUMS.txt" in names
    with default_storage.open(gtp.file.name, "rb") as handle:
        names = zipfile.ZipFile(io.BytesIO(handle.read())).namelist()
    assert sum("Composition du jury" in n for n in names) == 1
    assert sum(n.startswith("Procès-verbal") for n in names) == 1
    assert sum(n.startswith("Feuille d'émargement") for n in names) == 1


@pytest.mark.django_db
def test_management_command_renders_inline_with_sync():
    session, _ = decided_session(n=1, close=False)
    # close without producing anything (as if the workers were down)
    from django.db import transaction

    with transaction.atomic():
        services.close_session(actor=None, session=session)
        transaction.set_rollback(False)
    GeneratedDocument.objects.filter(session=session).update(status=DocumentStatus.FAILED, error="broker")
    out = io.StringIO()
    call_command("render_deliberation_documents", str(session.pk), "--sync", stdout=out)
    current = GeneratedDocument.objects.filter(session=session, is_current=True)
    assert {d.kind for d in current} == {"pv", "attendance", "letter", "certificate"}
    assert "4" in out.getvalue()


# --- A real Celery worker (Redis broker, PostgreSQL) -------------------------------------------------


def _wait(predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.worker
def test_pv_is_produced_by_a_real_celery_worker(celery_worker_process):
    session, candidates = decided_session(n=3)  # transactional_db: on_commit runs, tasks go to the worker
    pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV)
    assert _wait(lambda: GeneratedDocument.objects.get(pk=pv.pk).status == DocumentStatus.DONE)
    pv.refresh_from_db()
    content, reader, text = pdf_text(pv)
    assert hashlib.sha256(content).hexdigest() == pv.sha256
    assert f"Page 1 / {len(reader.pages)}" in text
    for candidate in candidates:
        assert candidate.reference in text
    assert "CQPM attribué" in text and "Résultat partiel" in text
    assert (
        GeneratedDocument.objects.filter(session=session, kind=DocumentKind.PV, is_current=True).count() == 1
    )


@pytest.mark.worker
def test_worker_process_killed_mid_job_then_redelivered_yields_exactly_one_pv(celery_worker_process):
    session, _ = decided_session(n=40, close=False)
    services.close_session(actor=None, session=session)
    pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV)
    killed = False
    if _wait(lambda: GeneratedDocument.objects.get(pk=pv.pk).status == DocumentStatus.RENDERING, timeout=60):
        children = subprocess.run(
            ["pgrep", "-P", str(celery_worker_process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)  # the pool process dies mid-render
            killed = True
    assert _wait(lambda: GeneratedDocument.objects.get(pk=pv.pk).status == DocumentStatus.DONE, timeout=180)
    pv.refresh_from_db()
    if killed and pv.attempts < 2:
        pytest.skip("The render finished before the kill reached it; nothing was interrupted.")
    assert pv.attempts >= 2  # run again after the worker was lost (acks_late + reject_on_worker_lost)
    assert files_of(pv) == [pv.file.name.rsplit("/", 1)[1]]
    assert (
        GeneratedDocument.objects.filter(session=session, kind=DocumentKind.PV, is_current=True).count() == 1
    )
    with default_storage.open(pv.file.name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == pv.sha256
