"""Read side of the legal reporting: which holders a user may see, and their « accrochage » records.

A holder is a candidate awarded the CQPM (`CandidateOutcome.result == "certified"`) by a deliberation
session that is closed; the issue date is the date of that deliberation. Every query for a request
starts from `candidates.selectors.candidates_visible_to(user)` (staff: their centres only).
"""

from django.conf import settings
from django.utils import timezone

from candidates.models import display_name
from candidates.selectors import candidates_visible_to
from deliberations.models import CandidateOutcome, Result, SessionStatus
from evaluations.models import Convocation, LegacyExamination

from .accrochage import MIXED, HolderRecord, delivery_mode, record_errors
from .models import AccrochageBatch, AccrochageRecord, DeclarationStatus


def holder_outcomes():
    """Certified outcomes of closed sessions, unscoped: callers scope them (user, or centre for the CLI)."""
    return CandidateOutcome.objects.filter(
        result=Result.CERTIFIED, session__status=SessionStatus.CLOSED
    ).select_related("candidate__centre", "candidate__certification", "session")


def holders_visible_to(user):
    if not user.is_authenticated or not user.is_centre_staff:
        return CandidateOutcome.objects.none()
    return holder_outcomes().filter(candidate__in=candidates_visible_to(user).values("pk"))


def batches_visible_to(user):
    if not user.is_authenticated or not user.is_centre_staff:
        return AccrochageBatch.objects.none()
    return AccrochageBatch.objects.filter(centre_id__in=user.centre_ids()).select_related(
        "centre", "session", "created_by"
    )


def filter_outcomes(outcomes, *, centre=None, session=None, date_from=None, date_to=None):
    if centre is not None:
        outcomes = outcomes.filter(candidate__centre=centre)
    if session is not None:
        outcomes = outcomes.filter(session=session)
    if date_from is not None:
        outcomes = outcomes.filter(session__date__gte=date_from)
    if date_to is not None:
        outcomes = outcomes.filter(session__date__lte=date_to)
    return outcomes


def _fold_states(records):
    """outcome id → (first reported at, status, rejection reason), from (outcome id, reported at,
    status, reason) rows of the records of every file in (reported at, id) order.

    Accepted once: accepted for good. Otherwise the latest record's answer counts (a rejected record
    sent again is "sent" until the next report).
    """
    states = {}
    for outcome_id, reported_at, status, reason in records:
        first, current, current_reason = states.get(outcome_id, (reported_at, "", ""))
        if current != DeclarationStatus.ACCEPTED:
            current, current_reason = status, reason
        states[outcome_id] = (first, current, current_reason)
    return states


def _declaration_states(outcome_ids):
    """`_fold_states` of these outcomes' records."""
    return _fold_states(
        AccrochageRecord.objects.filter(outcome_id__in=outcome_ids)
        .order_by("reported_at", "pk")
        .values_list("outcome_id", "reported_at", "status", "reason")
    )


# The columns a HolderRecord is built from, read as plain values (no model instances: issue 21).
HOLDER_COLUMNS = {
    "outcome_id": "pk",
    "outcome": "result",
    "session_id": "session_id",
    "issue_date": "session__date",
    "candidate_id": "candidate_id",
    "reference": "candidate__reference",
    "birth_name": "candidate__birth_name",
    "usage_name": "candidate__usage_name",
    "first_names": "candidate__first_names",
    "sex": "candidate__sex",
    "birth_date": "candidate__birth_date",
    "birth_place": "candidate__birth_place",
    "birth_country": "candidate__birth_country",
    "birth_insee_code": "candidate__birth_insee_code",
    "birth_postcode": "candidate__birth_postcode",
    "pathway": "candidate__pathway",
    "registered_on": "candidate__registered_on",
    "anonymised_at": "candidate__anonymised_at",
    "centre_code": "candidate__centre__code",
    "centre_postcode": "candidate__centre__postcode",
    "certification_code": "candidate__certification__code",
    "certification_title": "candidate__certification__title",
    "rncp_number": "candidate__certification__rncp_number",
}


def holder_records(outcomes, states=None):
    """HolderRecords for these outcomes, in 4 queries whatever their number (rows read as values);
    3 when their `_fold_states` are given."""

    rows = list(
        outcomes.order_by("session__date", "candidate__reference").values_list(*HOLDER_COLUMNS.values())
    )
    names = list(HOLDER_COLUMNS)
    rows = [dict(zip(names, row, strict=True)) for row in rows]
    candidate_ids = [row["candidate_id"] for row in rows]
    sessions_by_candidate = {}
    for candidate_id, session_date, is_remote in Convocation.objects.filter(
        candidate_id__in=candidate_ids
    ).values_list("candidate_id", "session__date", "session__is_remote"):
        sessions_by_candidate.setdefault(candidate_id, []).append((session_date, is_remote))
    legacy = {
        row[0]: row[1:]
        for row in LegacyExamination.objects.filter(candidate_id__in=candidate_ids).values_list(
            "candidate_id", "first_date", "last_date", "delivery_mode"
        )
    }
    if states is None:
        states = _declaration_states([row["outcome_id"] for row in rows])
    records = []
    for row in rows:
        candidate_id, issue_date = row["candidate_id"], row["issue_date"]
        # The evaluations that led to this deliberation: sessions held on or before its date, and the
        # evaluation recorded by staff for a candidate examined before the product.
        evaluations = [s for s in sessions_by_candidate.get(candidate_id, []) if s[0] <= issue_date]
        dates = [s[0] for s in evaluations]
        modes = {delivery_mode([s[1]]) for s in evaluations}
        if candidate_id in legacy:
            first_date, last_date, mode = legacy[candidate_id]
            dates += [first_date, last_date]
            modes.add(mode)
        mode = "" if not modes else (modes.pop() if len(modes) == 1 else MIXED)
        first, status, reason = states.get(row["outcome_id"], (None, "", ""))
        anonymised = row.pop("anonymised_at") is not None
        records.append(
            HolderRecord(
                **row,
                display_name=display_name(
                    row["birth_name"], row["usage_name"], row["first_names"], anonymised
                ),
                exam_start=min(dates, default=None),
                exam_end=max(dates, default=None),
                delivery_mode=mode,
                anonymised=anonymised,
                first_reported_at=first,
                declaration_status=status,
                rejection_reason=reason,
            )
        )
    return records


def reporting_overview(user, today=None):
    """The staff page: holders to declare (overdue first, with their anomalies), holders awaiting the
    portal's answer, holders reported late, counts."""
    today = today or timezone.localdate()
    demo = accrochage_demo_mode()
    # Years of holders accumulate, almost all accepted by the portal: the page reads every holder's
    # id with its records' answers in one query (one pass over the centre's candidates; holders
    # never sent come with NULLs), counts the accepted and reported ones from them, then reads the
    # full rows of the holders still to declare or awaiting an answer, plus those declared late
    # (their list is on the page), by primary key: not the whole history (issue 21).
    answers = list(
        holders_visible_to(user)
        .order_by("accrochage_records__reported_at", "accrochage_records__pk")
        .values_list(
            "pk",
            "accrochage_records__reported_at",
            "accrochage_records__status",
            "accrochage_records__reason",
            "accrochage_records__is_late",
        )
    )
    states = _fold_states(row[:4] for row in answers if row[1] is not None)
    late = {row[0] for row in answers if row[4]}
    shown = {
        row[0]
        for row in answers
        if row[0] in late or states.get(row[0], (None, ""))[1] != DeclarationStatus.ACCEPTED
    }
    records = holder_records(holder_outcomes().filter(pk__in=shown), states=states)
    to_declare = sorted((r for r in records if r.to_declare), key=lambda r: (r.due_date, r.reference))
    rows = [(r, record_errors(r, demo_mode=demo)) for r in to_declare]
    return {
        "unreported": to_declare,
        "to_declare_rows": rows,
        "declarable_count": sum(1 for _r, errors in rows if not any(e.blocking for e in errors)),
        "overdue_count": sum(1 for r in to_declare if r.is_overdue(today)),
        "pending": [r for r in records if r.is_pending],
        "accepted_count": sum(1 for state in states.values() if state[1] == DeclarationStatus.ACCEPTED),
        "reported_late": [r for r in records if r.reported_late],
        "reported_count": len(states),
        "today": today,
        "deadline_days": settings.CQPM["ACCROCHAGE_DEADLINE_DAYS"],
        "demo_mode": demo,
        "credentials_missing": not accrochage_credentials(),
    }


def accrochage_demo_mode():
    """Demo mode: demo data allowed (never with the production settings)."""
    return bool(getattr(settings, "DEMO_DATA_ALLOWED", False))


DEMO_ID_CLIENT = "DEMO0000"
DEMO_ID_CONTRAT = "MCFCERDEMO"


def accrochage_credentials():
    """(idClient, idContrat) from the settings; the demo's fictitious pair in demo mode; else None."""
    config = settings.CPF_ACCROCHAGE
    if config.get("ID_CLIENT") and config.get("ID_CONTRAT"):
        return config["ID_CLIENT"], config["ID_CONTRAT"]
    if accrochage_demo_mode():
        return DEMO_ID_CLIENT, DEMO_ID_CONTRAT
    return None
