"""Anonymisation of a candidate (`candidates.signals.candidate_anonymised`): the deliberations app
erases the candidate's own files (result letter, parchemin, attestation) and the session packs that
bundle them, marks the records, and keeps the legal content: PV, outcome, decisions with their
motivations, document numbers (still verifiable)."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from candidates import services as candidate_services
from core.models import AuditEvent
from deliberations import services
from deliberations.models import (
    CandidateOutcome,
    CompetencyDecision,
    DocumentKind,
    GeneratedDocument,
)
from deliberations.models.documents import CANDIDATE_KINDS
from tests.deliberations.factories import ready_session

pytestmark = pytest.mark.django_db


def closed_session_with_pack(capture):
    session = ready_session(n=2)
    entries = list(session.entries.order_by("candidate__reference").select_related("candidate"))
    c3 = session.certification.competencies.get(number=3)
    services.record_decisions(actor=None, session=session, candidate=entries[0].candidate, choices={})
    services.record_decisions(
        actor=None,
        session=session,
        candidate=entries[1].candidate,
        choices={c3.pk: ("not_acquired", "Résultat attendu non atteint.")},
    )
    with capture(execute=True):
        services.close_session(actor=None, session=session)
    session.refresh_from_db()
    with capture(execute=True):
        services.request_document(actor=None, session=session, kind=DocumentKind.PACK)
    return session, entries[0].candidate, entries[1].candidate


def test_anonymising_a_candidate_erases_its_files_and_keeps_the_legal_record(
    client, django_capture_on_commit_callbacks
):
    session, gone, kept = closed_session_with_pack(django_capture_on_commit_callbacks)
    own = list(GeneratedDocument.objects.filter(candidate=gone, kind__in=CANDIDATE_KINDS))
    assert {d.kind for d in own} == {DocumentKind.LETTER, DocumentKind.CERTIFICATE}
    pack = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PACK, is_current=True)
    pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV, is_current=True)
    others = list(GeneratedDocument.objects.filter(candidate=kept))
    erased_names = [d.file.name for d in own] + [pack.file.name]
    assert all(default_storage.exists(name) for name in erased_names)
    outcome_before = CandidateOutcome.objects.get(candidate=kept).explanation
    motivations = list(CompetencyDecision.objects.exclude(motivation="").values_list("pk", "motivation"))
    assert motivations

    with django_capture_on_commit_callbacks(execute=True):
        candidate_services.anonymise_candidate(candidate=gone)

    for document in own + [pack]:
        document.refresh_from_db()
        assert document.erased_at is not None and not document.file and document.status == "done"
        assert document.sha256  # the fingerprint of what was issued stays
    assert not any(default_storage.exists(name) for name in erased_names)
    # The PV (legal record), the other candidate's documents, outcomes and motivations are kept.
    pv.refresh_from_db()
    assert pv.erased_at is None and pv.is_current and default_storage.exists(pv.file.name)
    for document in others:
        document.refresh_from_db()
        assert document.erased_at is None and default_storage.exists(document.file.name)
    assert CandidateOutcome.objects.filter(candidate=gone).exists()
    assert CandidateOutcome.objects.get(candidate=kept).explanation == outcome_before
    assert (
        list(CompetencyDecision.objects.exclude(motivation="").values_list("pk", "motivation")) == motivations
    )
    event = AuditEvent.objects.get(action="deliberations.candidate_files_erased")
    assert event.data["documents"] == 3 and gone.birth_name not in event.message

    # The parchemin number stays verifiable; its file can no longer be downloaded.
    certificate = next(d for d in own if d.kind == DocumentKind.CERTIFICATE)
    page = client.get(reverse("deliberations:verify_number", args=[certificate.number]))
    assert page.status_code == 200 and "Document authentique" in page.content.decode()
    assert gone.birth_name not in page.content.decode()


def test_erasure_is_idempotent_and_survives_missing_files(django_capture_on_commit_callbacks):
    session, gone, _kept = closed_session_with_pack(django_capture_on_commit_callbacks)
    letter = GeneratedDocument.objects.get(candidate=gone, kind=DocumentKind.LETTER)
    default_storage.delete(letter.file.name)  # already gone from the storage
    with django_capture_on_commit_callbacks(execute=True):
        first = services.erase_candidate_files(candidate=gone)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.erase_candidate_files(candidate=gone)
    assert first == 3 and second == 0
    letter.refresh_from_db()
    assert letter.erased_at is not None and not letter.file
