"""The deliberations' part of the candidate's page (candidates.hub): the session he is put before, the
jury's decision per competency and bloc with the validity dates, and his documents to download; their
stages on the timeline and the next step. At most six queries whatever the candidate."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.hub import HubSection, NextStep, Stage
from candidates.models import CandidateStatus

from .models import (
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    CompetencyDecision,
    DocumentStatus,
    GeneratedDocument,
    SessionCandidate,
)


def _name(user):
    return (user.get_full_name() or user.username) if user is not None else ""


def candidate_section(request, candidate):
    if not request.user.is_centre_staff:
        return None
    entry = (
        SessionCandidate.objects.filter(candidate=candidate)
        .select_related("session__jury", "session__closed_by")
        .order_by("-session__date", "-pk")
        .first()
    )
    if entry is None:
        if candidate.status == CandidateStatus.AWAITING_DELIBERATION:
            return HubSection(
                order=60,
                template="deliberations/_candidate_hub.html",
                context={},
                next_steps=[NextStep(60, _("Présenter au jury"), reverse("deliberations:session_list"))],
            )
        return None
    session = entry.session
    outcome = (
        CandidateOutcome.objects.filter(candidate=candidate, session=session)
        .select_related("decided_by")
        .first()
    )
    decisions = list(
        CompetencyDecision.objects.filter(candidate=candidate, session=session)
        .select_related("competency__block")
        .order_by("competency__number")
    )
    # The validity dates are shown against the jury's decisions: none to read before it decided.
    until = (
        {c.competency_id: c for c in CapitalisedCompetency.objects.filter(candidate=candidate)}
        if decisions
        else {}
    )
    blocks = list(
        CapitalisedBlock.objects.filter(candidate=candidate).select_related("block").order_by("block__number")
    )
    documents = list(
        GeneratedDocument.objects.filter(
            candidate=candidate, is_current=True, status=DocumentStatus.DONE, erased_at__isnull=True
        ).order_by("kind")
    )
    today = timezone.localdate()
    stages = [
        Stage(
            60,
            _("Présentation au jury paritaire"),
            session.date,
            session.jury.name,
            done=session.date <= today,
        )
    ]
    if outcome is not None:
        stages.append(
            Stage(
                70,
                _("Décision du jury"),
                outcome.decided_at,
                _name(outcome.decided_by),
                detail=outcome.get_result_display(),
            )
        )
    if session.closed_at:
        stages.append(Stage(80, _("Délibération clôturée"), session.closed_at, _name(session.closed_by)))
    if documents:
        stages.append(
            Stage(
                90,
                _("Documents produits"),
                max(d.created_at for d in documents),
                "",
                detail=", ".join(str(d.get_kind_display()) for d in documents),
            )
        )
    return HubSection(
        order=60,
        template="deliberations/_candidate_hub.html",
        context={
            "session": session,
            "outcome": outcome,
            "closed": session.closed_at is not None,
            "decisions": [(d, until.get(d.competency_id)) for d in decisions],
            "blocks": blocks,
            "documents": documents,
        },
        stages=stages,
    )
