"""The candidate's own space (issue 23): what the candidate signed in sees of himself, never anyone
else. Every read starts from `request.user.candidate_record`, so another candidate's object is out of
reach (404). Results and documents only once the deliberation session is closed: never a draft.
"""

from django.http import Http404

from candidates.models import CANDIDATE_UPLOAD_KINDS, CandidateDocument, DocumentKind
from deliberations.models import (
    Appeal,
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    DocumentStatus,
    GeneratedDocument,
    SessionStatus,
)
from deliberations.models.documents import CANDIDATE_KINDS
from evaluations.models import Convocation
from referential.models import ModalityCode


def own_candidate(user):
    """The candidate record of the signed-in candidate, or 404 (anonymised: nothing left to show)."""
    candidate = getattr(user, "candidate_record", None) if user.is_candidate else None
    if candidate is None or candidate.is_anonymised:
        raise Http404
    return candidate


def convocations_of(candidate):
    return list(
        Convocation.objects.filter(candidate=candidate, convened_at__isnull=False)
        .select_related("session")
        .order_by("session__date", "time_slot")
    )


def closed_outcomes_of(candidate):
    return list(
        CandidateOutcome.objects.filter(candidate=candidate, session__status=SessionStatus.CLOSED)
        .select_related("session")
        .prefetch_related("blocks_acquired")
        .order_by("-session__date")
    )


def capitalised_of(candidate):
    closed = {"session__status": SessionStatus.CLOSED}
    competencies = list(
        CapitalisedCompetency.objects.filter(candidate=candidate, **closed).select_related("competency")
    )
    blocks = list(CapitalisedBlock.objects.filter(candidate=candidate, **closed).select_related("block"))
    return competencies, blocks


def documents_of(candidate):
    """The current edition of the candidate's own documents of closed sessions, ready to download."""
    return list(
        GeneratedDocument.objects.filter(
            candidate=candidate,
            kind__in=CANDIDATE_KINDS,
            session__status=SessionStatus.CLOSED,
            status=DocumentStatus.DONE,
            is_current=True,
        )
        .exclude(file="")
        .order_by("kind", "-version")
    )


def document_of(candidate, document_pk):
    for document in documents_of(candidate):
        if str(document.pk) == str(document_pk):
            return document
    raise Http404


# --- before the evaluation: what to hand in, and what he handed in ---------------------------


def expected_documents(candidate, dossier):
    """The documents the centre expects from the candidate, with their deadline and what was
    received: [{"kind", "label", "required", "received": [CandidateDocument, newest first]}]."""

    if dossier is None or not dossier.is_frozen:
        return []
    needs_report = any(
        ModalityCode.PROJECT_PRESENTATION in (item.modalities or [])
        for item in dossier.items.all()
        if not item.already_acquired
    )
    received = {}
    for document in CandidateDocument.objects.filter(candidate=candidate, kind__in=CANDIDATE_UPLOAD_KINDS):
        received.setdefault(document.kind, []).append(document)
    rows = []
    if needs_report:
        rows.append(
            {
                "kind": DocumentKind.REPORT,
                "label": DocumentKind.REPORT.label,
                "required": True,
                "received": received.get(DocumentKind.REPORT, []),
            }
        )
    rows.append(
        {
            "kind": DocumentKind.EVIDENCE,
            "label": DocumentKind.EVIDENCE.label,
            "required": False,
            "received": received.get(DocumentKind.EVIDENCE, []),
        }
    )
    if not needs_report and received.get(DocumentKind.REPORT):
        rows.insert(
            0,
            {
                "kind": DocumentKind.REPORT,
                "label": DocumentKind.REPORT.label,
                "required": False,
                "received": received[DocumentKind.REPORT],
            },
        )
    return rows


def own_upload(candidate, document_pk):
    """One of the candidate's own files (report, evidence, appeal attachment), for its receipt."""

    document = CandidateDocument.objects.filter(candidate=candidate, pk=document_pk).first()
    if document is None:
        raise Http404
    return document


# --- after the jury: appeals -------------------------------------------------------------------


def appeals_by_session(candidate):
    """{session id: [Appeal, newest first]} of the candidate."""

    rows = {}
    for appeal in Appeal.objects.filter(candidate=candidate).prefetch_related("attachments"):
        rows.setdefault(appeal.session_id, []).append(appeal)
    return rows


def closed_outcome_for_session(candidate, session_pk):
    for outcome in closed_outcomes_of(candidate):
        if outcome.session_id == session_pk:
            return outcome
    raise Http404
