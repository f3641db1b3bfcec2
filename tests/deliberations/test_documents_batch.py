"""The dense PV (one row per candidate) and the candidate documents rendered by batches (issue 9)."""

import hashlib
import io
import re

import pytest
from celery.exceptions import Retry
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from candidates.models import Candidate
from core.text import COMMENT_MAX
from deliberations import documents, services, tasks
from deliberations.models import CandidateOutcome, DocumentKind, DocumentStatus, GeneratedDocument
from tests.deliberations.factories import ready_session
from tests.deliberations.test_documents import _wait, files_of

MOTIVATION = "Résultat attendu non atteint."
REVIEW_MOTIVATION = "Le jury retient la conclusion de la commission."


def read(document):
    with default_storage.open(document.file.name, "rb") as handle:
        content = handle.read()
    reader = PdfReader(io.BytesIO(content))
    return content, reader, "\n".join(page.extract_text() for page in reader.pages)


def flat(text):
    return " ".join(text.split())


def session_with_departures(n=4, close=True, capture=None):
    """n candidates (a CQPM of 3 competencies, C1 and C2 in bloc 1, C3 in bloc 2): odd ones have C3
    overridden to « non acquise » (motivated); the last one has C2 re-examined (the company disagrees
    with the commission) and confirmed « acquise » with a motivation."""
    session = ready_session(n=n)
    entries = list(session.entries.order_by("candidate__reference").select_related("candidate"))
    certification = session.certification
    c3 = certification.competencies.get(number=3)
    c2 = certification.competencies.get(number=2)
    last = entries[-1].candidate
    # The company's opinion on C2 is unfavourable while the commission concluded « acquise ».
    assert last.company_opinions.filter(competency=c2).update(opinion="unfavourable") == 1
    for index, entry in enumerate(entries):
        choices = {c3.pk: ("not_acquired", MOTIVATION)} if index % 2 else {}
        if entry.candidate == last:
            choices[c2.pk] = ("acquired", REVIEW_MOTIVATION)
        services.record_decisions(actor=None, session=session, candidate=entry.candidate, choices=choices)
    if close:
        with capture(execute=True):
            services.close_session(actor=None, session=session)
    session.refresh_from_db()
    return session, [e.candidate for e in entries]


# --- The dense PV ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dense_pv_lists_every_candidate_with_his_decisions_and_the_motivated_ones_apart(
    django_capture_on_commit_callbacks,
):
    session, candidates = session_with_departures(n=4, capture=django_capture_on_commit_callbacks)
    pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV, is_current=True)
    _content, reader, text = read(pv)
    pages = len(reader.pages)
    assert f"Page 1 / {pages}" in text and f"Page {pages} / {pages}" in text
    decisions, motivated = flat(text).split("Décisions motivées du jury", 1)
    motivated = motivated.split("Totaux", 1)[0]
    for index, candidate in enumerate(candidates):
        # One row per candidate: reference and name, then its codes C1..C7, blocs and result.
        row = re.search(
            re.escape(candidate.reference) + r" (.+?) (CQPM attribué|Résultat partiel)", decisions
        )
        assert row, candidate.reference
        assert candidate.birth_name.upper() in row.group(1)
        codes = row.group(1).split()[-4:-1]  # the 3 competencies, before the blocs
        expected = ["A"] * 3
        if index % 2:
            expected[2] = "NA*"  # the jury departed from the proposal « acquise »
        if candidate == candidates[-1]:
            expected[1] = "AR"  # re-examined (commission and company disagree), decided « acquise »
        assert codes == expected, (candidate.reference, row.group(0))
        assert row.group(2) == ("Résultat partiel" if index % 2 else "CQPM attribué")
        # Only the candidates whose decisions were motivated are in the second section.
        assert (candidate.reference in motivated) == bool(index % 2 or candidate == candidates[-1])
    assert motivated.count("Écart à la proposition : " + MOTIVATION) == 2
    assert motivated.count("Réexamen : " + REVIEW_MOTIVATION) == 1
    # What the domain requires of a PV besides the decisions.
    for expected in (
        session.certification.code,
        "RNCP12345",
        session.centre.name,
        pv.number,
        "Employeurs",
        "Salariés",
        "présidence (voix prépondérante)",
        "quorum requis",
        "Signatures",
        "Bloc 1",
        "Bloc 2",
        "C3",
    ):
        assert expected in flat(text), expected
    totals = flat(text).split("Totaux", 1)[1]
    assert "4 2 2 0 2" in totals  # candidates, certified, partial, failed, departures


@pytest.mark.django_db
def test_dense_pv_of_a_session_without_departure_says_the_jury_followed_every_proposal(
    django_capture_on_commit_callbacks,
):
    session = ready_session(n=2)
    for entry in session.entries.select_related("candidate"):
        services.record_decisions(actor=None, session=session, candidate=entry.candidate, choices={})
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=session)
    pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV, is_current=True)
    _content, _reader, text = read(pv)
    assert "aucune compétence n'a été réexaminée" in flat(text)


@pytest.mark.django_db
def test_pv_context_costs_the_same_queries_for_2_and_12_candidates():
    small, _ = session_with_departures(n=2, close=False)
    large, _ = session_with_departures(n=12, close=False)
    budgets = []
    for session in (small, large):
        document = GeneratedDocument(session=session, kind=DocumentKind.PV, number=f"PV-TEST-{session.pk}")
        with CaptureQueriesContext(connection) as queries:
            context = documents.contexts._pv_context(document)
        budgets.append(len(queries.captured_queries))
        assert len(context["rows"]) == session.entries.count()
    assert budgets[0] == budgets[1] <= 13  # + the capitalisation records read for the dates (issue 22)


# --- Batches of candidate documents ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_gives_each_candidate_his_own_one_page_file_with_only_his_own_data(
    django_capture_on_commit_callbacks,
):
    session, candidates = session_with_departures(n=4, capture=django_capture_on_commit_callbacks)
    for kind in (DocumentKind.LETTER, DocumentKind.CERTIFICATE, DocumentKind.BLOCK_ATTESTATION):
        records = list(
            GeneratedDocument.objects.filter(session=session, kind=kind).select_related("candidate")
        )
        assert records and all(d.status == DocumentStatus.DONE and d.is_current for d in records)
        numbers = {d.number for d in GeneratedDocument.objects.filter(session=session)}
        for record in records:
            content, reader, text = read(record)
            assert hashlib.sha256(content).hexdigest() == record.sha256 and len(content) == record.size
            assert len(reader.pages) == 1
            # Letters number their pages; single-page certificates and attestations carry no counter.
            assert ("Page 1 / 1" in text) == (kind == DocumentKind.LETTER) and "Page 1 / 2" not in text
            assert record.number in text
            assert record.candidate.birth_name.upper() in text
            others = [c for c in candidates if c.pk != record.candidate_id]
            assert not [c.reference for c in others if c.reference in text]
            assert not [c.first_names for c in others if f"{c.first_names} {c.birth_name.upper()}" in text]
            assert not (numbers - {record.number}) & set(
                re.findall(r"[A-Z]+-[A-Z0-9]+-\d{4}-[A-Z0-9]{10}", text)
            )
            assert reader.metadata.title.endswith(record.number)
            # No image of another document (the QR codes carry the document numbers).
            xobjects = reader.pages[0]["/Resources"].get("/XObject", {})
            assert len(xobjects) == (1 if kind in documents.QR_KINDS else 0)
    letters = GeneratedDocument.objects.filter(session=session, kind=DocumentKind.LETTER)
    assert letters.count() == 4 and {d.candidate_id for d in letters} == {c.pk for c in candidates}


@pytest.mark.django_db
def test_a_letter_longer_than_a_page_is_rendered_alone_with_its_own_page_numbers(
    django_capture_on_commit_callbacks,
):
    session, candidates = session_with_departures(n=3, close=False)
    # Two motivations at the longest a motivation may be (core.text.COMMENT_MAX): more than a page.
    long_motivation = ("Motivation détaillée du jury. " * 200)[:COMMENT_MAX]
    c2, c3 = (session.certification.competencies.get(number=number) for number in (2, 3))
    services.record_decisions(
        actor=None,
        session=session,
        candidate=candidates[1],
        choices={c2.pk: ("not_acquired", long_motivation), c3.pk: ("not_acquired", long_motivation)},
    )
    # The motivation stays in the PV; a long message of the jury to the candidate lengthens his letter
    # (written directly: the service caps it at 1 500 characters).
    CandidateOutcome.objects.filter(session=session, candidate=candidates[1]).update(
        reason_for_candidate="Message du jury au candidat. " * 170  # 4 930 characters (limit 5 000)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=session)
    short, long = (
        GeneratedDocument.objects.get(session=session, kind=DocumentKind.LETTER, candidate=c)
        for c in candidates[:2]
    )
    _content, reader, text = read(long)
    pages = len(reader.pages)
    assert pages >= 2 and f"Page 1 / {pages}" in text and f"Page {pages} / {pages}" in text
    assert candidates[1].birth_name.upper() in text and candidates[0].reference not in text
    assert "Motivation détaillée du jury" not in text
    _content, reader, text = read(short)
    assert len(reader.pages) == 1 and candidates[1].reference not in text


@pytest.mark.django_db
def test_session_documents_are_queued_pv_first_then_batches_of_one_kind(
    monkeypatch, django_capture_on_commit_callbacks
):
    session, _ = session_with_departures(n=5, close=False)
    queued = []
    monkeypatch.setattr(services, "DOCUMENT_BATCH_SIZE", 2)
    monkeypatch.setattr(services, "safe_delay", lambda task, *args: queued.append((task.name, args)) or True)
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=session)
    created = {str(d.pk): d for d in GeneratedDocument.objects.filter(session=session)}
    assert queued[0] == ("deliberations.tasks.render_document", (str(created_pv(session).pk),))
    seen = []
    for _name, (ids,) in (q for q in queued[1:] if q[0].endswith("render_documents")):
        kinds = {created[i].kind for i in ids}
        assert len(kinds) == 1 and kinds <= set(documents.BATCH_KINDS) and len(ids) <= 2
        seen += ids
    singles = [args[0] for name, args in queued if name.endswith("render_document")]
    assert sorted(seen + singles) == sorted(created)  # every record queued exactly once
    # Requesting again while they are pending creates and queues nothing.
    queued.clear()
    session.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        again = services.request_session_documents(actor=None, session=session)
    assert queued == [] and {str(d.pk) for d in again} == set(created)


def created_pv(session):
    return GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV)


def _queued_session(django_capture_on_commit_callbacks, n=3):
    session, candidates = session_with_departures(n=n, close=False)
    with django_capture_on_commit_callbacks(execute=False):
        services.close_session(actor=None, session=session)
    letters = list(
        GeneratedDocument.objects.filter(session=session, kind=DocumentKind.LETTER).order_by(
            "candidate__reference"
        )
    )
    return session, candidates, letters


@pytest.mark.django_db
def test_running_a_batch_twice_changes_nothing(django_capture_on_commit_callbacks):
    _session, _candidates, letters = _queued_session(django_capture_on_commit_callbacks)
    ids = [str(d.pk) for d in letters]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.render_documents.apply(args=[ids])
    first = {d.pk: (d.sha256, d.file.name) for d in GeneratedDocument.objects.filter(pk__in=ids)}
    with django_capture_on_commit_callbacks(execute=True):
        tasks.render_documents.apply(args=[ids])
    for document in GeneratedDocument.objects.filter(pk__in=ids):
        assert document.status == DocumentStatus.DONE and document.is_current and document.attempts == 1
        assert (document.sha256, document.file.name) == first[document.pk]
        assert files_of(document) == [document.file.name.rsplit("/", 1)[1]]


@pytest.mark.django_db
def test_a_batch_killed_midway_is_finished_by_the_redelivery_one_file_each(
    monkeypatch, django_capture_on_commit_callbacks
):
    _session, _candidates, letters = _queued_session(django_capture_on_commit_callbacks)
    ids = [str(d.pk) for d in letters]

    class WorkerKilled(BaseException):
        """Like SIGKILL: nothing in the task catches it."""

    real_publish = documents.production._publish
    published = []

    def publish_then_die(document, name, content):
        if published:
            raise WorkerKilled
        published.append(document.pk)
        return real_publish(document, name, content)

    monkeypatch.setattr(documents.production, "_publish", publish_then_die)
    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        tasks.render_documents.apply(args=[ids], throw=True)
    states = {d.pk: d for d in GeneratedDocument.objects.filter(pk__in=ids)}
    assert [pk for pk, d in states.items() if d.status == DocumentStatus.DONE] == published
    assert all(
        d.status == DocumentStatus.RENDERING and not d.file for pk, d in states.items() if pk not in published
    )

    monkeypatch.setattr(documents.production, "_publish", real_publish)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.render_documents.apply(args=[ids])  # the redelivered message (acks_late)
    for document in GeneratedDocument.objects.filter(pk__in=ids):
        assert document.status == DocumentStatus.DONE and document.is_current
        assert document.attempts == (1 if document.pk in published else 2)
        assert files_of(document) == [document.file.name.rsplit("/", 1)[1]]  # orphans removed
        with default_storage.open(document.file.name, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == document.sha256


@pytest.mark.django_db
def test_one_document_that_cannot_be_produced_does_not_sink_its_batch(django_capture_on_commit_callbacks):
    _session, candidates, letters = _queued_session(django_capture_on_commit_callbacks)
    broken = letters[1]
    # Its result disappeared after the request (a permanent error for that document only).
    CandidateOutcome.objects.filter(session=broken.session, candidate_id=broken.candidate_id).delete()
    tasks.render_documents.apply(args=[[str(d.pk) for d in letters]])
    states = {d.pk: d for d in GeneratedDocument.objects.filter(pk__in=[d.pk for d in letters])}
    assert states[broken.pk].status == DocumentStatus.FAILED
    assert "pas de résultat" in states[broken.pk].error
    assert all(d.status == DocumentStatus.DONE for pk, d in states.items() if pk != broken.pk)


@pytest.mark.django_db
def test_a_transient_failure_puts_the_whole_batch_back_in_the_queue(
    monkeypatch, django_capture_on_commit_callbacks
):
    _session, _candidates, letters = _queued_session(django_capture_on_commit_callbacks)
    ids = [str(d.pk) for d in letters]

    def storage_down(batch):
        raise OSError("storage down")

    monkeypatch.setattr(documents.production, "build_batch", storage_down)
    with pytest.raises(Retry):
        tasks.render_documents.apply(args=[ids], throw=True)
    for document in GeneratedDocument.objects.filter(pk__in=ids):
        assert document.status == DocumentStatus.QUEUED and "Stockage" in document.error
    tasks.render_documents.apply(args=[ids], retries=tasks.MAX_RETRIES)
    assert set(GeneratedDocument.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        DocumentStatus.FAILED
    }


@pytest.mark.django_db
def test_sync_command_path_produces_candidate_documents_in_batches(monkeypatch):
    session, candidates = session_with_departures(n=3, close=False)
    with transaction.atomic():
        services.close_session(actor=None, session=session)
        GeneratedDocument.objects.filter(session=session).delete()
    session.refresh_from_db()
    runs = []
    real = documents.build_batch
    monkeypatch.setattr(
        documents.production, "build_batch", lambda batch: runs.append(len(batch)) or real(batch)
    )
    produced = documents.produce_session_documents_inline(session)
    assert all(d.status == DocumentStatus.DONE and d.is_current for d in produced)
    assert runs and max(runs) == 3  # the 3 letters in one WeasyPrint run
    assert Candidate.objects.filter(pk__in=[c.pk for c in candidates]).count() == 3


# --- A real Celery worker (Redis broker, PostgreSQL) -------------------------------------------------


@pytest.mark.worker
def test_a_real_worker_produces_every_document_of_a_session_by_batches(celery_worker_process):
    session, candidates = session_with_departures(n=4, close=False)
    services.close_session(actor=None, session=session)  # transactional_db: on_commit queues the tasks
    records = GeneratedDocument.objects.filter(session=session)
    assert _wait(lambda: set(records.values_list("status", flat=True)) == {DocumentStatus.DONE}, timeout=180)
    for letter in records.filter(kind=DocumentKind.LETTER).select_related("candidate"):
        content, reader, text = read(letter)
        assert hashlib.sha256(content).hexdigest() == letter.sha256 and len(reader.pages) == 1
        assert letter.candidate.reference in text
        assert not [c.reference for c in candidates if c.pk != letter.candidate_id and c.reference in text]


@pytest.mark.django_db
def test_requesting_a_session_documents_costs_the_same_queries_for_2_and_8_candidates(
    django_capture_on_commit_callbacks,
):
    from core.models import AuditEvent

    counts = []
    for n in (2, 8):
        session, _ = session_with_departures(n=n, close=False)
        with django_capture_on_commit_callbacks(execute=False):
            services.close_session(actor=None, session=session)
        first = GeneratedDocument.objects.filter(session=session)
        total = first.count()
        first.update(status=DocumentStatus.FAILED)  # nothing pending: every document is asked again
        session.refresh_from_db()
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=False):
            again = services.request_session_documents(actor=None, session=session)
        counts.append(len(queries.captured_queries))
        assert len(again) == total and {d.version for d in again} == {2}
        event = AuditEvent.objects.filter(
            action="deliberations.documents_requested", target_id=str(session.pk)
        )
        assert event.count() == 2 and len(event.latest("pk").data["document_ids"]) == total
    assert counts[0] == counts[1] <= 15


def test_worker_warm_up_loads_fonts_and_compiles_templates_without_failing(monkeypatch):
    compiled = []
    from django.template import loader

    real = loader.get_template
    monkeypatch.setattr(loader, "get_template", lambda name: compiled.append(name) or real(name))
    tasks.warm_up_pdf_rendering()
    assert set(compiled) == set(documents.TEMPLATES.values())
