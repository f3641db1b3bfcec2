"""Read access to candidates, companies and tutors: THE querysets every view, export and command uses.

`candidates_visible_to(user)` decides which candidates a user may see:
- centre staff: the candidates of their centres (superusers: all centres);
- tutors: the candidates whose tutor record is linked to their account;
- evaluators and jury members: the scope the app that knows them contributes with `register_scope`
  (`evaluations`: the candidates convened before one of their commissions; `deliberations`: the
  candidates of their deliberation sessions). A role without a registered scope sees no candidate
  (least privilege). Everything else in the product goes through `candidates_visible_to`.

The registry keeps the layers (docs/design.md): `candidates` never imports the apps above it; they
register their scope from their `AppConfig.ready`, as they register their filters (`register_filter`).
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from core.models import person_name, pop_person_name

from .models import (
    CLOSED_STATUSES,
    AccessRequest,
    Candidate,
    CandidateDocument,
    CandidateStatusChange,
    Company,
    DossierCompetency,
    ImportJob,
    Tutor,
)


def _no_candidates():
    return Candidate.objects.none()


# role → function(user) returning the candidates that role sees (filled by the apps above).
_SCOPES = {}


def register_scope(role, scope):
    """Let the app that knows a role say which candidates its users see: `scope(user)` returns a
    queryset of `Candidate`. Called from the app's `AppConfig.ready`; registering again replaces."""
    _SCOPES[role] = scope


def candidates_visible_to(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return _no_candidates()
    if user.is_centre_staff:
        return Candidate.objects.filter(centre_id__in=user.centre_ids())
    if user.is_tutor:
        return Candidate.objects.filter(tutor__user=user, anonymised_at__isnull=True)
    scope = _SCOPES.get(user.role)
    return scope(user) if scope is not None else _no_candidates()


def candidate_list_queryset(user):
    """The staff list: everything a row shows, fetched in a constant number of queries."""
    return candidates_visible_to(user).select_related("centre", "certification", "company", "tutor")


def candidate_list_values(queryset):
    """The rows of the list page as dicts: only the columns it shows (no model instance per row)."""
    return queryset.values(
        "pk",
        "reference",
        "birth_name",
        "usage_name",
        "first_names",
        "anonymised_at",
        "pathway",
        "status",
        "registered_on",
        certification_code=F("certification__code"),
        certification_title=F("certification__title"),
        certification_version=F("certification__version"),
        company_name=F("company__name"),
    )


# -- keyset pagination of the staff list --------------------------------------------------------

LIST_PAGE_SIZE = 50
LIST_COUNT_LIMIT = 1000
# The list's one order, newest registration first, the id breaking ties of the same day. Both columns
# are NOT NULL (no NULL to place) and neither is text (no collation to agree with): a cursor is the
# pair (registered_on, id) of a row, compared as the ORDER BY compares it.
LIST_ORDERING = ("-registered_on", "-id")


@dataclass
class CandidateListPage:
    """One page of the staff list (`candidate_list_values` rows) and the cursors of its neighbours.

    `previous` / `following`: the value of the `avant` / `apres` parameter of the links « Précédents »
    / « Suivants » (None when there is nothing that way). `at_start`: the page holds the first rows.
    `count`: how many candidates match, counted up to `LIST_COUNT_LIMIT + 1` only."""

    rows: list
    previous: str | None
    following: str | None
    at_start: bool
    count: int = 0

    count_limit: int = LIST_COUNT_LIMIT

    @property
    def is_capped(self):
        return self.count > self.count_limit


def encode_list_cursor(row):
    """A row's place in the list's order (a `candidate_list_values` dict or a Candidate):
    « YYYYMMDD-id » of its registration date and id."""
    day = row["registered_on"] if isinstance(row, dict) else row.registered_on
    pk = row["pk"] if isinstance(row, dict) else row.pk
    return f"{day:%Y%m%d}-{pk}"


def decode_list_cursor(value):
    """(registered_on, id) from a cursor, or None when it is not one (a hand-made, truncated or
    outdated link: the list then shows its first page)."""
    day, sep, pk = (value or "").partition("-")
    if (
        not sep
        or not value.isascii()
        or len(day) != 8
        or not day.isdigit()
        or not pk.isdigit()
        or len(pk) > 18
    ):
        return None
    try:
        return datetime.date(int(day[:4]), int(day[4:6]), int(day[6:])), int(pk)
    except ValueError:
        return None


def _list_rows(ids):
    """The rows of the page whose ids are the (sliced) queryset `ids`, in the list's order: one
    query, the candidate table's index read alone for the ids, the page's own rows only joined to
    their CQPM and company (`pk IN (… LIMIT 51)`, a « deferred join »)."""
    return list(candidate_list_values(Candidate.objects.filter(pk__in=ids).order_by(*LIST_ORDERING)))


def candidate_list_page(queryset, *, before=None, after=None, size=LIST_PAGE_SIZE, count_limit=None):
    """The page of the staff list (`queryset`, filtered and scoped) after the cursor `after`, or
    before the cursor `before`, or the first one. Keyset pagination on (registered_on, id), the
    list indexes' order: each page reads its ids and one more, however deep in the list it is (no
    OFFSET), and the count stops at `count_limit + 1` rows (no COUNT of 76 000 candidates)."""
    count_limit = LIST_COUNT_LIMIT if count_limit is None else count_limit
    ids = queryset.select_related(None).order_by().values_list("pk", flat=True)
    page = None
    before_key = decode_list_cursor(before) if before else None
    after_key = decode_list_cursor(after) if after and before_key is None else None
    if before_key is not None:
        day, pk = before_key
        # The rows before the cursor, nearest first (ascending), then shown in the list's order.
        rows = _list_rows(
            ids.filter(registered_on__gte=day)
            .filter(Q(registered_on__gt=day) | Q(id__gt=pk))
            .order_by("registered_on", "id")[: size + 1]
        )
        if len(rows) > size:
            rows = rows[1:]  # the row beyond this page, the one nearest the start
            page = CandidateListPage(rows, encode_list_cursor(rows[0]), encode_list_cursor(rows[-1]), False)
        elif len(rows) == size:
            page = CandidateListPage(rows, None, encode_list_cursor(rows[-1]), True)
        # fewer: the first rows moved (a candidate deleted, a filter changed): the first page
    elif after_key is not None:
        day, pk = after_key
        rows = _list_rows(
            ids.filter(registered_on__lte=day)
            .filter(Q(registered_on__lt=day) | Q(id__lt=pk))
            .order_by(*LIST_ORDERING)[: size + 1]
        )
        if rows:
            more = len(rows) > size
            rows = rows[:size]
            page = CandidateListPage(
                rows, encode_list_cursor(rows[0]), encode_list_cursor(rows[-1]) if more else None, False
            )
        # nothing after the cursor (stale, or past the end): the first page
    if page is None:
        rows = _list_rows(ids.order_by(*LIST_ORDERING)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        page = CandidateListPage(rows, None, encode_list_cursor(rows[-1]) if more else None, True)
    # « N candidats » up to the limit: a whole first page is the whole list, no count needed.
    page.count_limit = count_limit
    if page.at_start and page.following is None:
        page.count = len(page.rows)
    else:
        page.count = ids[: count_limit + 1].count()
    return page


def candidate_detail_queryset(user):
    """The candidate page's candidate in one query: its own fields, plus what the page shows of its
    centre, CQPM, company, tutor, previous attempt and dossier as annotations (no related model
    instances: each select_related model costs its every column in SQL compilation and hydration)."""
    return candidates_visible_to(user).annotate(
        centre_name=F("centre__name"),
        certification_code=F("certification__code"),
        certification_title=F("certification__title"),
        certification_version=F("certification__version"),
        company_name=F("company__name"),
        tutor_first_name=F("tutor__first_name"),
        tutor_last_name=F("tutor__last_name"),
        tutor_function=F("tutor__function"),
        previous_reference=F("previous_attempt__reference"),
        dossier_pk=F("dossier__id"),
        dossier_report_due_date=F("dossier__report_due_date"),
        dossier_company_opinion_applies=F("dossier__company_opinion_applies"),
        dossier_validated_at=F("dossier__validated_at"),
        dossier_validated_by_first_name=F("dossier__validated_by__first_name"),
        dossier_validated_by_last_name=F("dossier__validated_by__last_name"),
        dossier_validated_by_username=F("dossier__validated_by__username"),
    )


def detail_dossier(candidate):
    """The dossier of a candidate from `candidate_detail_queryset`, as a dict (None without one)."""
    if candidate.dossier_pk is None:
        return None
    return {
        "pk": candidate.dossier_pk,
        "report_due_date": candidate.dossier_report_due_date,
        "company_opinion_applies": candidate.dossier_company_opinion_applies,
        "validated_at": candidate.dossier_validated_at,
        "is_frozen": candidate.dossier_validated_at is not None,
        "is_editable": candidate.dossier_validated_at is None and candidate.dossier_editable,
        "validated_by": person_name(
            candidate.dossier_validated_by_first_name,
            candidate.dossier_validated_by_last_name,
            candidate.dossier_validated_by_username,
        ),
    }


def dossier_rows(dossier_id):
    """The competencies of a dossier as dicts, in the competencies' order (candidate page)."""
    return list(
        DossierCompetency.objects.filter(dossier_id=dossier_id)
        .order_by("competency__number")
        .values(
            "competency_id",
            "modalities",
            "already_acquired",
            "acquired_on",
            "acquired_until",
            "acquired_through_block",
            number=F("competency__number"),
            title=F("competency__title"),
            block_number=F("competency__block__number"),
        )
    )


def document_rows(candidate_id):
    """The candidate's documents as dicts, newest first, with the uploader's display name."""
    rows = list(
        CandidateDocument.objects.filter(candidate_id=candidate_id)
        .order_by("-uploaded_at", "-id")
        .values(
            "pk",
            "original_name",
            "kind",
            "is_late",
            "uploaded_at",
            "size",
            "sha256",
            "uploaded_by__first_name",
            "uploaded_by__last_name",
            "uploaded_by__username",
        )
    )
    for row in rows:
        row["uploaded_by"] = pop_person_name(row, "uploaded_by")
    return rows


def status_history_rows(candidate_id):
    """The candidate's status changes as dicts, oldest first, with the author's display name (None:
    an automatic change)."""
    rows = list(
        CandidateStatusChange.objects.filter(candidate_id=candidate_id)
        .order_by("at", "id")
        .values("from_status", "to_status", "at", "reason", "by__first_name", "by__last_name", "by__username")
    )
    for row in rows:
        row["by"] = pop_person_name(row, "by")
    return rows


def companies_visible_to(user):
    if user is None or not user.is_authenticated or not user.is_centre_staff:
        return Company.objects.none()
    return Company.objects.filter(centre_id__in=user.centre_ids())


SIRET_PATTERN = re.compile(r"(?<!\d)\d{14}(?!\d)")
COMPANY_SUGGESTIONS = 20


def company_search_term(text):
    """How a company search text reads: ("siret", s) when it holds a 14-digit SIRET (a suggestion
    « Name — SIRET »), ("siret_prefix", digits) when it is only digits (spaces allowed), else
    ("name", text); None for an empty text."""
    text = " ".join(str(text or "").split())[:100]
    if not text:
        return None
    siret = SIRET_PATTERN.search(text)
    if siret:
        return "siret", siret.group()
    digits = text.replace(" ", "")
    if digits.isdigit():
        return "siret_prefix", digits
    return "name", text


def company_condition(text, *, prefix=""):
    """The search text as a Q on the company's fields (`prefix`: the path of a relation to Company);
    a name matches when it contains the text, case-insensitively. None for an empty text."""
    term = company_search_term(text)
    if term is None:
        return None
    kind, value = term
    lookup = {"siret": "siret", "siret_prefix": "siret__startswith", "name": "name__icontains"}[kind]
    return Q(**{f"{prefix}{lookup}": value})


def companies_matching(user, text, *, limit=COMPANY_SUGGESTIONS):
    """At most `limit` companies of the user's scope matching a search text (name or SIRET), as
    dicts (pk, name, siret, centre_code): the suggestions of the candidate list's company filter."""
    condition = company_condition(text)
    if condition is None:
        return []
    return list(
        companies_visible_to(user)
        .filter(condition)
        .order_by("name", "siret", "pk")
        .values("pk", "name", "siret", centre_code=F("centre__code"))[:limit]
    )


def company_designated_by(user, text):
    """The id of the one company of the user's scope that the text designates — by its full SIRET or
    its exact name (case-insensitive) — or None when it designates none or several."""
    term = company_search_term(text)
    if term is None or term[0] == "siret_prefix":
        return None
    kind, value = term
    lookup = {"siret": value} if kind == "siret" else {"name__iexact": value}
    ids = list(companies_visible_to(user).filter(**lookup).values_list("pk", flat=True)[:2])
    return ids[0] if len(ids) == 1 else None


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

    if user is None or not user.is_authenticated or not user.is_active or not user.is_centre_staff:
        return ImportJob.objects.none()
    return ImportJob.objects.filter(centre_id__in=user.centre_ids())


def access_requests_visible_to(user):
    """The register of access requests (RGPD) of the staff member's centres (superusers: all)."""

    qs = AccessRequest.objects.select_related("candidate")
    if user is None or not user.is_authenticated or not user.is_active or not user.is_centre_staff:
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(candidate__centre_id__in=user.centre_ids())


def overdue_access_requests(user, today):
    """Access requests not answered (sent) by their deadline, the oldest deadline first."""
    return (
        access_requests_visible_to(user)
        .filter(sent_on__isnull=True, due_on__lt=today)
        .order_by("due_on", "pk")
    )
