"""Read side of the legal reporting: which holders a user may see, and their « accrochage » records.

A holder is a candidate awarded the CQPM (`CandidateOutcome.result == "certified"`) by a deliberation
session that is closed; the issue date is the date of that deliberation. Every query for a request
starts from `candidates.selectors.candidates_visible_to(user)` (staff: their centres only).
"""

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from candidates.selectors import candidates_visible_to
from deliberations.models import CandidateOutcome, Result, SessionStatus

from .accrochage import HolderRecord, delivery_mode
from .models import AccrochageBatch, AccrochageRecord


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


def filter_outcomes(
    outcomes, *, centre=None, session=None, date_from=None, date_to=None, unreported_only=False
):
    if centre is not None:
        outcomes = outcomes.filter(candidate__centre=centre)
    if session is not None:
        outcomes = outcomes.filter(session=session)
    if date_from is not None:
        outcomes = outcomes.filter(session__date__gte=date_from)
    if date_to is not None:
        outcomes = outcomes.filter(session__date__lte=date_to)
    if unreported_only:
        outcomes = outcomes.exclude(accrochage_records__isnull=False)
    return outcomes


def holder_records(outcomes):
    """HolderRecords for these outcomes, in 3 queries whatever their number."""
    from evaluations.models import Convocation

    outcomes = list(outcomes.order_by("session__date", "candidate__reference"))
    candidate_ids = [o.candidate_id for o in outcomes]
    sessions_by_candidate = {}
    for candidate_id, session_date, is_remote in Convocation.objects.filter(
        candidate_id__in=candidate_ids
    ).values_list("candidate_id", "session__date", "session__is_remote"):
        sessions_by_candidate.setdefault(candidate_id, []).append((session_date, is_remote))
    first_reported = dict(
        AccrochageRecord.objects.filter(outcome__in=[o.pk for o in outcomes])
        .values("outcome_id")
        .annotate(first=Min("reported_at"))
        .values_list("outcome_id", "first")
    )
    records = []
    for outcome in outcomes:
        candidate, session = outcome.candidate, outcome.session
        # The evaluations that led to this deliberation: sessions held on or before its date.
        evaluations = [s for s in sessions_by_candidate.get(candidate.pk, []) if s[0] <= session.date]
        records.append(
            HolderRecord(
                outcome_id=outcome.pk,
                candidate_id=candidate.pk,
                reference=candidate.reference,
                display_name=candidate.full_name,
                centre_code=candidate.centre.code,
                certification_code=candidate.certification.code,
                certification_title=candidate.certification.title,
                certification_version=candidate.certification.version,
                rncp_number=candidate.certification.rncp_number,
                birth_name=candidate.birth_name,
                usage_name=candidate.usage_name,
                first_names=candidate.first_names,
                sex=candidate.sex,
                birth_date=candidate.birth_date,
                birth_place=candidate.birth_place,
                birth_country=candidate.birth_country,
                pathway=candidate.pathway,
                exam_date=max((s[0] for s in evaluations), default=None),
                outcome=outcome.result,
                delivery_mode=delivery_mode(s[1] for s in evaluations),
                centre_postcode=candidate.centre.postcode,
                issue_date=session.date,
                session_id=session.pk,
                anonymised=candidate.anonymised_at is not None,
                first_reported_at=first_reported.get(outcome.pk),
            )
        )
    return records


def reporting_overview(user, today=None):
    """The staff page: holders not yet reported (overdue first) and holders reported late."""
    today = today or timezone.localdate()
    records = holder_records(holders_visible_to(user))
    unreported = sorted((r for r in records if not r.is_reported), key=lambda r: (r.due_date, r.reference))
    late = [r for r in records if r.reported_late]
    return {
        "unreported": unreported,
        "overdue_count": sum(1 for r in unreported if r.is_overdue(today)),
        "reported_late": late,
        "reported_count": sum(1 for r in records if r.is_reported),
        "today": today,
        "deadline_days": settings.CQPM["ACCROCHAGE_DEADLINE_DAYS"],
    }
