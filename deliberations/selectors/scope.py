"""What each role may see of the deliberations: THE querysets of every view, export and task."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef
from django.shortcuts import get_object_or_404

from candidates.models import Candidate

from .. import permissions
from ..models import (
    Appeal,
    AppealStatus,
    CandidateOutcome,
    DeliberationSession,
    GeneratedDocument,
    Jury,
    JuryMember,
)


def jury_candidates(user):
    """The candidates a jury member sees (`candidates.selectors.register_scope`): those of the
    deliberation sessions of his juries."""
    return Candidate.objects.filter(deliberation_entries__session__jury__members__user=user).distinct()


def sessions_visible_to(user):
    qs = DeliberationSession.objects.select_related("centre", "certification", "jury")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.is_centre_staff:
        return qs.filter(centre_id__in=user.centre_ids())
    if user.is_jury_member:
        # EXISTS, not a join + DISTINCT: the rows stay unique without PostgreSQL sorting every
        # column of the session, its centre, CQPM and jury.
        return qs.filter(Exists(JuryMember.objects.filter(jury_id=OuterRef("jury_id"), user=user)))
    return qs.none()


def appeals_visible_to(user):
    """The candidates' appeals staff handle: those of their centres' sessions (superusers: all)."""
    qs = Appeal.objects.select_related("candidate", "session__certification", "session__centre")
    if not user.is_authenticated or not user.is_active or not user.is_centre_staff:
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(session__centre_id__in=user.centre_ids())


def open_appeals(user):
    return appeals_visible_to(user).filter(status=AppealStatus.OPEN).order_by("filed_at", "pk")


def session_for(user, pk):
    """The session `pk` if the user may see it, else 404."""
    session = get_object_or_404(sessions_visible_to(user), pk=pk)
    if user.is_jury_member and not user.is_centre_staff:
        # Visible to a jury member only through his seat (sessions_visible_to): the permission
        # predicates need not query it again (one query less on every page of the session).
        permissions.note_jury_seat(session, user)
    return session


def juries_visible_to(user):
    qs = Jury.objects.select_related("centre")
    if user.is_superuser:
        return qs
    if user.is_centre_staff:
        return qs.filter(centre_id__in=user.centre_ids())
    return qs.none()


def documents_visible_to(user):
    return GeneratedDocument.objects.filter(
        session__in=sessions_visible_to(user).values("pk")
    ).select_related("session", "candidate")


def session_list(user):
    # sorted by date, the latest first (issue 16), whatever the scope's own ordering
    return (
        sessions_visible_to(user)
        .annotate(
            candidate_count=Count("entries", distinct=True), decided_count=Count("outcomes", distinct=True)
        )
        .order_by("-date", "-pk")
    )


def is_candidate_locked(candidate_id):
    """Once the jury has recorded its decisions, the candidate's scores, proposals and opinions are frozen."""
    return CandidateOutcome.objects.filter(candidate_id=candidate_id).exists()
