"""The candidate's own space (issue 23): what the candidate signed in sees of himself, never anyone
else. Every read starts from `request.user.candidate_record`, so another candidate's object is out of
reach (404). Results and documents only once the deliberation session is closed: never a draft.
"""

from django.http import Http404

from deliberations.models import (
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    DocumentStatus,
    GeneratedDocument,
    SessionStatus,
)
from deliberations.models.documents import CANDIDATE_KINDS
from evaluations.models import Convocation


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
