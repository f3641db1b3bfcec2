"""Read access to candidates, companies and tutors: THE querysets every view, export and command uses.

`candidates_visible_to(user)` decides which candidates a user may see:
- centre staff: the candidates of their centres (superusers: all centres);
- tutors: the candidates whose tutor record is linked to their account;
- evaluators: `evaluator_candidates(user)` — the candidates convened before one of their commissions;
- jury members: `jury_candidates(user)` — the candidates of their deliberation sessions.

The last two are hooks owned by the `evaluations` and `deliberations` apps: until those apps fill
them in, they return no candidate (least privilege). Change only the body of the hook, keep the
signature: everything else in the product goes through `candidates_visible_to`.
"""

import unicodedata

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from .models import CLOSED_STATUSES, Candidate, Company, Tutor


def _no_candidates():
    return Candidate.objects.none()


def evaluator_candidates(user):
    """Hook for `evaluations`: candidates convened before a commission the evaluator sits on."""
    from evaluations.selectors import candidates_for_evaluator

    return candidates_for_evaluator(user)


def jury_candidates(user):
    """Hook for `deliberations`: candidates of the deliberation sessions of the member's juries."""
    return Candidate.objects.filter(deliberation_entries__session__jury__members__user=user).distinct()


def candidates_visible_to(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return _no_candidates()
    if user.is_centre_staff:
        return Candidate.objects.filter(centre_id__in=user.centre_ids())
    if user.is_tutor:
        return Candidate.objects.filter(tutor__user=user, anonymised_at__isnull=True)
    if user.is_evaluator:
        return evaluator_candidates(user)
    if user.is_jury_member:
        return jury_candidates(user)
    return _no_candidates()


def candidate_list_queryset(user):
    """The staff list: everything a row shows, fetched in a constant number of queries."""
    return candidates_visible_to(user).select_related("centre", "certification", "company", "tutor")


def candidate_detail_queryset(user):
    return candidates_visible_to(user).select_related(
        "centre", "certification", "company", "tutor", "previous_attempt", "created_by"
    )


def companies_visible_to(user):
    if user is None or not user.is_authenticated or not user.is_centre_staff:
        return Company.objects.none()
    return Company.objects.filter(centre_id__in=user.centre_ids())


def company_list_queryset(user):
    return (
        companies_visible_to(user)
        .select_related("centre")
        .annotate(
            tutor_count=Count("tutors", distinct=True), candidate_count=Count("candidates", distinct=True)
        )
    )


def tutors_visible_to(user):
    if user is None or not user.is_authenticated or not user.is_centre_staff:
        return Tutor.objects.none()
    return Tutor.objects.filter(company__centre_id__in=user.centre_ids())


def normalise_name(value):
    """Case-, accent- and spacing-insensitive form of a name, for duplicate detection."""
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.replace("-", " ").replace("'", " ").casefold().split())


def find_duplicates(*, centre, birth_name, first_names, birth_date, exclude_pk=None):
    """Candidates of `centre` with the same birth name, first names and birth date."""
    queryset = Candidate.objects.filter(
        centre=centre, birth_date=birth_date, anonymised_at__isnull=True
    ).select_related("certification")
    if exclude_pk:
        queryset = queryset.exclude(pk=exclude_pk)
    wanted = (normalise_name(birth_name), normalise_name(first_names))
    return [
        candidate
        for candidate in queryset
        if (normalise_name(candidate.birth_name), normalise_name(candidate.first_names)) == wanted
    ]


def years_before(moment, years):
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def candidates_due_for_anonymisation(now=None):
    """Closed candidates (deliberated or withdrawn) whose last status change is older than the
    retention period settings.CQPM["RETENTION_YEARS"]. Open candidates are never anonymised."""
    limit = years_before(now or timezone.now(), settings.CQPM["RETENTION_YEARS"])
    return Candidate.objects.filter(
        Q(status__in=CLOSED_STATUSES), anonymised_at__isnull=True, status_changed_at__lt=limit
    ).order_by("pk")


def import_jobs_visible_to(user):
    """Import jobs of the staff member's centres (superusers: all), most recent first."""
    from .models import ImportJob

    if user is None or not user.is_authenticated or not user.is_active or not user.is_centre_staff:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(centre_id__in=user.centre_ids())
