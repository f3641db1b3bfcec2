"""The deliberations' part of the candidate's page (candidates.hub): the session he is put before, the
jury's decision per competency and bloc with the validity dates, and his documents to download; their
stages on the timeline and the next step. At most five queries whatever the candidate.

The section only displays: its rows are read as values (dicts), not model instances — each query of
the page costs ~1.5 ms of ORM CPU, a third of it hydrating models and their related users (issue 21);
the choices' labels are translated once per page."""

from django.db.models import F, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from candidates.hub import HubSection, NextStep, Stage
from candidates.models import CandidateStatus
from core.models import person_name

from .models import (
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    CompetencyDecision,
    Decision,
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
    Result,
    SessionCandidate,
    SessionStatus,
)


def _labels(choices):
    return {value: str(label) for value, label in choices}


def candidate_section(request, candidate):
    if not request.user.is_centre_staff:
        return None
    entry = (
        SessionCandidate.objects.filter(candidate=candidate)
        .order_by("-session__date", "-pk")
        .values(
            "session_id",
            date=F("session__date"),
            place=F("session__place"),
            status=F("session__status"),
            closed_at=F("session__closed_at"),
            jury_name=F("session__jury__name"),
            closed_by_first_name=F("session__closed_by__first_name"),
            closed_by_last_name=F("session__closed_by__last_name"),
            closed_by_username=F("session__closed_by__username"),
        )
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
    session_id = entry["session_id"]
    session = {
        "pk": session_id,
        "date": entry["date"],
        "place": entry["place"],
        "get_status_display": _labels(SessionStatus.choices).get(entry["status"], entry["status"]),
    }
    outcome = (
        CandidateOutcome.objects.filter(candidate=candidate, session_id=session_id)
        .values(
            "result",
            "decided_at",
            "decided_by__first_name",
            "decided_by__last_name",
            "decided_by__username",
        )
        .first()
    )
    if outcome is not None:
        outcome["get_result_display"] = _labels(Result.choices).get(outcome["result"], outcome["result"])
    # The validity date shown against each decision: the candidate's capitalisation of that competency
    # (the latest when several deliberations capitalised it), read in the decisions' query.
    decisions = list(
        CompetencyDecision.objects.filter(candidate=candidate, session_id=session_id)
        .order_by("competency__number")
        .values(
            "decided",
            "motivation",
            number=F("competency__number"),
            title=F("competency__title"),
            block_number=F("competency__block__number"),
            valid_until=Subquery(
                CapitalisedCompetency.objects.filter(
                    candidate_id=OuterRef("candidate_id"), competency_id=OuterRef("competency_id")
                )
                .order_by("-valid_until")
                .values("valid_until")[:1]
            ),
        )
    )
    if decisions:
        decided_labels = _labels(Decision.choices)
        for decision in decisions:
            decision["decided_label"] = decided_labels.get(decision["decided"], decision["decided"])
    blocks = list(
        CapitalisedBlock.objects.filter(candidate=candidate)
        .order_by("block__number")
        .values("valid_until", number=F("block__number"), title=F("block__title"))
    )
    documents = list(
        GeneratedDocument.objects.filter(
            candidate=candidate, is_current=True, status=DocumentStatus.DONE, erased_at__isnull=True
        )
        .order_by("kind")
        .values("pk", "kind", "number", "created_at")
    )
    if documents:
        kind_labels = _labels(DocumentKind.choices)
        for document in documents:
            document["kind_label"] = kind_labels.get(document["kind"], document["kind"])
    today = timezone.localdate()
    stages = [
        Stage(
            60,
            _("Présentation au jury paritaire"),
            entry["date"],
            entry["jury_name"],
            done=entry["date"] <= today,
        )
    ]
    if outcome is not None:
        stages.append(
            Stage(
                70,
                _("Décision du jury"),
                outcome["decided_at"],
                person_name(
                    outcome["decided_by__first_name"],
                    outcome["decided_by__last_name"],
                    outcome["decided_by__username"],
                ),
                detail=outcome["get_result_display"],
            )
        )
    if entry["closed_at"]:
        stages.append(
            Stage(
                80,
                _("Délibération clôturée"),
                entry["closed_at"],
                person_name(
                    entry["closed_by_first_name"], entry["closed_by_last_name"], entry["closed_by_username"]
                ),
            )
        )
    if documents:
        stages.append(
            Stage(
                90,
                _("Documents produits"),
                max(d["created_at"] for d in documents),
                "",
                detail=", ".join(d["kind_label"] for d in documents),
            )
        )
    return HubSection(
        order=60,
        template="deliberations/_candidate_hub.html",
        context={
            "session": session,
            "outcome": outcome,
            "closed": entry["closed_at"] is not None,
            "decisions": decisions,
            "blocks": blocks,
            "documents": documents,
        },
        stages=stages,
    )
