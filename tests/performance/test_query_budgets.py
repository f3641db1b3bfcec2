"""Query budgets of the main pages on coherent scale data (issue 9), at two sizes with the same budget.

The data is built once per size by `seed_scale`'s builder (one centre of 3 × N candidates, reference
deliberation sessions of N candidates), inside a transaction rolled back after the module. Each page
is opened as the role that uses it; its number of queries must stay under the same budget at N = 5
and N = 50: a page whose queries grow with its rows (N+1) fails here.
"""

import pytest
from django.db import transaction
from django.urls import reverse

from bench.scale import ADMIN_USERNAME, BENCH_CENTRE_CODE, BENCH_OPEN_PLACE, ScaleBuilder, ScaleOptions
from candidates.models import Candidate, CandidateStatus
from candidates.selectors import LIST_ORDERING, encode_list_cursor
from core.audit import encode_cursor
from core.models import AuditEvent, User
from deliberations.board_version import bump_sessions
from deliberations.models import DeliberationSession, JuryMember
from deliberations.selectors import BOARD_PAGE_SIZE, board_summary
from evaluations.models import CompanyOpinion, ScoringSheet, SheetStatus
from referential.models import Certification

SIZES = [5, 50]
STAFF = f"scale-staff-{BENCH_CENTRE_CODE.lower()}-1"

# Maximum number of queries per page, the same at every size. A page's budget counts everything
# of the request: session, user, centres, navigation, the page's own queries. Measured on
# 2026-11-26 (identical at 5 and 50 rows: no page grows with its data).
BUDGETS = {
    "candidate_list": 6,
    # the list further on, through a keyset cursor (issue 21): the same queries however deep
    "candidate_list_next": 6,
    # +12 on 2026-12-03 (issue 16): the page is the hub — the evaluation's section (6 queries:
    # convocations, competencies, sheets, proposals, opinions, invitation) and the jury's (6: session,
    # outcome, decisions, capitalised competencies and blocs, documents), whatever the candidate's data.
    # Issue 21: 19 → 17 — the competencies to evaluate come from the page's dossier rows, the validity
    # dates with the jury's decisions (opinions and invitation only where the company opinion applies).
    "candidate_detail": 17,
    "scoring": 7,
    "opinions_todo": 4,
    "opinion": 4,
    # issue 21: the board comes from the cache while its session's board version has not moved
    # (before: 19 / 17, every request computing the board); see the budgets after a write below.
    # Staff: +2 for the forms of a session they manage (eligible candidates, attendance).
    # Jury: -1 on 2026-12-03 (issue 21, floor): the session found through his seat is not asked again.
    "jury_board_staff": 6,
    "jury_board_jury": 3,
    "statistics": 5,
    "referential_detail": 12,
    # the home pages: +1 on 2026-11-27 for the « Nouveaux messages » widget (one query, any volume)
    # +1 on 2026-12-03 for the « demandes d'accès en retard » widget (RGPD; one query, any volume)
    "home_staff": 15,  # +1 on 2026-12-03 (issue 23): the open appeals widget
    "home_evaluator": 6,
    "home_tutor": 5,
    "home_jury": 5,
    # issue 21: the CPF declaration page (holders not yet accepted, counts in SQL) and the audit
    # journal, newest page and an older one (keyset: the same queries however deep).
    # Declaration page -1 on 2026-12-03 (issue 21): every holder's id and answers in one query
    # (before: a count, then the rows to show with their answers), the rows then read by key.
    "accrochage": 11,
    "journal": 9,
    "journal_older": 9,
}


@pytest.fixture(scope="module", params=SIZES, ids=[f"{n}-rows" for n in SIZES])
def scale(request, django_db_setup, django_db_blocker):
    """Scale data of size N, built once for the module and rolled back afterwards."""
    size = request.param
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            ScaleBuilder(
                ScaleOptions(centres=1, candidates=3 * size, jury_session_size=size, chunk_size=500)
            ).build()
            yield size
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _pages(size):
    """(key, username, url) of every main page, found in the data."""
    open_session = DeliberationSession.objects.get(place=BENCH_OPEN_PLACE)
    assert open_session.entries.count() == size
    president = JuryMember.objects.get(jury=open_session.jury, is_president=True).user
    candidate = Candidate.objects.filter(status=CandidateStatus.DELIBERATED).order_by("pk").first()
    sheet = ScoringSheet.objects.filter(status=SheetStatus.DRAFT).select_related("evaluator").first()
    if sheet is None:  # no candidate in evaluation at this size: a submitted sheet, still the grid page
        sheet = ScoringSheet.objects.select_related("evaluator").first()
    opinion = CompanyOpinion.objects.filter(signed_at__isnull=True).select_related("tutor__user").first()
    if opinion is None:
        opinion = CompanyOpinion.objects.select_related("tutor__user").first()
    tutor = opinion.tutor.user.username
    certification = Certification.objects.get(code="CQPM-CRH", status="published")
    return {
        "candidate_list": (
            ADMIN_USERNAME,
            f"{reverse('candidates:list')}?status={CandidateStatus.DELIBERATED}",
        ),
        "candidate_list_next": (ADMIN_USERNAME, f"{reverse('candidates:list')}?apres={_list_cursor()[0]}"),
        "candidate_detail": (STAFF, reverse("candidates:detail", args=[candidate.pk])),
        "scoring": (
            sheet.evaluator.username,
            reverse("evaluations:score", args=[sheet.candidate_id, sheet.competency_id]),
        ),
        "opinions_todo": (tutor, reverse("evaluations:opinions_todo")),
        "opinion": (tutor, reverse("evaluations:opinion", args=[opinion.candidate_id])),
        "jury_board_staff": (STAFF, reverse("deliberations:session_detail", args=[open_session.pk])),
        "jury_board_jury": (
            president.username,
            reverse("deliberations:session_detail", args=[open_session.pk]),
        ),
        "statistics": (ADMIN_USERNAME, reverse("reporting:statistics")),
        "referential_detail": (STAFF, reverse("referential:detail", args=[certification.pk])),
        "home_staff": (STAFF, reverse("home")),
        "home_evaluator": (sheet.evaluator.username, reverse("home")),
        "home_tutor": (tutor, reverse("home")),
        "home_jury": (president.username, reverse("home")),
        "accrochage": (STAFF, reverse("reporting:accrochage")),
        "journal": (STAFF, reverse("core:audit_log")),
        "journal_older": (STAFF, f"{reverse('core:audit_log')}?avant={_older_journal_cursor()}"),
    }


def _list_cursor():
    """A cursor in the middle of the candidate list (every candidate, national admin), and the
    reference of the row that follows it."""
    rows = Candidate.objects.order_by(*LIST_ORDERING)
    middle = rows.count() // 2
    return encode_list_cursor(rows[middle]), rows[middle + 1].reference


def _older_journal_cursor():
    """The cursor of the journal's second page for the bench centre's staff (events of that centre)."""
    events = AuditEvent.objects.filter(centre__code=BENCH_CENTRE_CODE).order_by("-created_at", "-id")
    return encode_cursor(events[49])


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(BUDGETS))
def test_page_stays_within_its_query_budget(scale, page, client, django_assert_max_num_queries):
    username, url = _pages(scale)[page]
    client.force_login(User.objects.get(username=username))
    client.get(url)  # first request: fills per-process caches (content types, permissions, templates)
    with django_assert_max_num_queries(BUDGETS[page]):
        response = client.get(url)
    assert response.status_code == 200, (page, url, response.status_code)
    # Not an empty page: the rows are there (N of them on the list and the jury board).
    content = response.content.decode()
    if page in ("candidate_list", "jury_board_staff", "jury_board_jury"):
        # the jury board's first page (by reference); its heading counts the whole session
        references = (
            Candidate.objects.filter(deliberation_entries__session__place=BENCH_OPEN_PLACE)
            .order_by("reference")
            .values_list("reference", flat=True)[:BOARD_PAGE_SIZE]
        )
        if page == "candidate_list":
            references = Candidate.objects.filter(status=CandidateStatus.DELIBERATED).values_list(
                "reference", flat=True
            )[:50]
        assert all(reference in content for reference in references)
    if page == "candidate_list_next":
        assert _list_cursor()[1] in content and 'rel="prev"' in content
    if page in ("jury_board_staff", "jury_board_jury"):
        assert f" / {scale} décidés)" in content
    if page.startswith("journal"):  # 6 events a candidate: more than two pages at both sizes
        assert len(response.context["events"]) == 50 and "Plus anciens" in content
    if page == "accrochage":
        assert response.context["accepted_count"] > 0 and response.context["unreported"]


# The jury board once a write has moved its session's board version (issue 21): the session-wide
# summary (counts per state, divergence set) and the page computed again, at every size.
# The summary: entries with their decided flag, referential, disagreeing proposals, the capitalised
# competencies and blocs of their candidates (and their attempt chains). After a write: the page's
# evidence as before the cache (17 / 19) and the summary's own capitalisation queries (+2).
BOARD_SUMMARY_BUDGET = 6
BOARD_AFTER_WRITE_BUDGETS = {"staff": 21, "jury": 18}  # jury: -1, see jury_board_jury


@pytest.mark.django_db
def test_board_summary_stays_within_its_budget(scale, django_assert_max_num_queries):
    session = DeliberationSession.objects.get(place=BENCH_OPEN_PLACE)
    with django_assert_max_num_queries(BOARD_SUMMARY_BUDGET):
        summary = board_summary(session)
    assert summary.counts["all"] == scale and len(summary.ordered) == scale
    assert summary.counts["decided"] + summary.counts["todo"] == scale


@pytest.mark.django_db
@pytest.mark.parametrize("who", sorted(BOARD_AFTER_WRITE_BUDGETS))
def test_board_after_a_write_stays_within_its_budget(scale, who, client, django_assert_max_num_queries):
    session = DeliberationSession.objects.get(place=BENCH_OPEN_PLACE)
    username = (
        STAFF
        if who == "staff"
        else JuryMember.objects.get(jury=session.jury, is_president=True).user.username
    )
    client.force_login(User.objects.get(username=username))
    url = reverse("deliberations:session_detail", args=[session.pk])
    client.get(url)  # the board is now in the cache
    bump_sessions([session.pk])  # what every write the board reads does
    with django_assert_max_num_queries(BOARD_AFTER_WRITE_BUDGETS[who]):
        response = client.get(url)
    assert response.status_code == 200
    assert f" / {scale} décidés)" in response.content.decode()
