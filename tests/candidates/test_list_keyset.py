"""The staff candidate list pages by keyset (issue 21): « Premiers » / « Précédents » / « Suivants »,
a cursor on (registered_on, id) instead of `?page=N`, and a count capped at `LIST_COUNT_LIMIT`.

The rules: walking the pages forward or backward partitions the list — every candidate once, no gap,
in the list's order (newest registration first, the id breaking ties of the same day) — whatever the
ties and the filters; a hand-made, truncated or outdated cursor shows the first page; the links keep
the filters (never the session-held search); the export ignores the cursor and keeps every row.
"""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from candidates import selectors
from candidates.models import Candidate, CandidateStatus, Pathway
from candidates.selectors import candidate_list_page, decode_list_cursor, encode_list_cursor
from candidates.views import PAGE_SIZE
from tests.candidates.factories import CandidateFactory

S = CandidateStatus
LIST = "candidates:list"
POOL = 13  # candidates of the property test


def references(response):
    assert response.status_code == 200
    return re.findall(r'<a href="/candidats/\d+/">([^<]+)</a>', response.content.decode())


def nav_link(response, label):
    """The href of the list's pagination link « label », or None."""
    content = response.content.decode()
    nav = re.search(r'<nav aria-label="Pages de la liste des candidats".*?</nav>', content, re.S)
    if nav is None:
        return None
    found = re.search(rf'<a class="page-link"(?: rel="\w+")? href="([^"]+)">{label}</a>', nav.group())
    return found.group(1).replace("&amp;", "&") if found else None


def walk(queryset, size):
    """Every page forward from the first, then backward from the last: the lists of their ids."""
    forward = [candidate_list_page(queryset, size=size)]
    while forward[-1].following:
        assert len(forward) <= POOL + 1, "the walk does not end"
        forward.append(candidate_list_page(queryset, after=forward[-1].following, size=size))
    backward = [forward[-1]]
    while backward[-1].previous:
        assert len(backward) <= POOL + 1, "the walk does not end"
        backward.append(candidate_list_page(queryset, before=backward[-1].previous, size=size))
    return forward, backward[::-1]


@pytest.fixture
def pool(centre_a, certification):
    return [
        CandidateFactory(centre=centre_a, certification=certification, vae=True, with_dossier=False)
        for _ in range(POOL)
    ]


# --- the keyset rules -------------------------------------------------------------------------


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    days=st.lists(st.integers(min_value=0, max_value=3), min_size=POOL, max_size=POOL),
    deliberated=st.lists(st.booleans(), min_size=POOL, max_size=POOL),
    size=st.integers(min_value=1, max_value=5),
    filtered=st.booleans(),
)
def test_pages_partition_the_list_forward_and_backward(pool, days, deliberated, size, filtered):
    """Few distinct days (ties on the sort key on every page) and any filter: the pages forward and
    backward are the same pages, together the list in its order, each candidate once."""
    today = date(2026, 6, 15)
    for candidate, day, done in zip(pool, days, deliberated, strict=True):
        candidate.registered_on = today - timedelta(days=day)
        candidate.status = S.DELIBERATED if done else S.REGISTERED
    Candidate.objects.bulk_update(pool, ["registered_on", "status"])
    queryset = Candidate.objects.all()
    if filtered:
        queryset = queryset.filter(status=S.DELIBERATED)
    expected = [
        c.pk
        for c in sorted(pool, key=lambda c: (c.registered_on, c.pk), reverse=True)
        if not filtered or c.status == S.DELIBERATED
    ]

    forward, backward = walk(queryset, size)
    pages = [[row["pk"] for row in page.rows] for page in forward]
    assert [pk for page in pages for pk in page] == expected  # no gap, no repeat, in order
    assert [[row["pk"] for row in page.rows] for page in backward] == pages
    assert all(len(page) == size for page in pages[:-1]) and len(pages[-1]) <= size
    assert [page.at_start for page in forward] == [True] + [False] * (len(forward) - 1)
    assert forward[0].previous is None and forward[-1].following is None
    for page in forward + backward:
        assert page.count == len(expected)  # under the cap: the exact number


@pytest.mark.django_db
def test_equal_days_are_ordered_by_id_across_a_page_break(centre_a, certification):
    """Five candidates registered the same day, pages of two: the page break falls inside the day."""
    day = timezone.localdate()
    same_day = [
        CandidateFactory(centre=centre_a, certification=certification, registered_on=day, with_dossier=False)
        for _ in range(5)
    ]
    older = CandidateFactory(
        centre=centre_a,
        certification=certification,
        registered_on=day - timedelta(days=1),
        with_dossier=False,
    )
    forward, _ = walk(Candidate.objects.all(), 2)
    assert [[row["pk"] for row in page.rows] for page in forward] == [
        [same_day[4].pk, same_day[3].pk],
        [same_day[2].pk, same_day[1].pk],
        [same_day[0].pk, older.pk],
    ]


def test_cursors_read_back_and_refuse_what_they_are_not():
    assert encode_list_cursor({"registered_on": date(2026, 3, 9), "pk": 42}) == "20260309-42"
    assert decode_list_cursor("20260309-42") == (date(2026, 3, 9), 42)
    for value in (
        "",
        "42",
        "2026-03-09-42",
        "20260230-1",  # no 30 February
        "00000101-1",
        "20260309-",
        "20260309--1",
        "20260309-1e3",
        "2026030-1",
        "20260309-" + "9" * 19,
        "٢٠٢٦٠٣٠٩-1",  # digits, not ASCII ones
    ):
        assert decode_list_cursor(value) is None, value


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def listed_a(centre_a, centre_b, certification):
    """PAGE_SIZE + 7 candidates of centre A over a week (ties every day), one of centre B."""
    today = timezone.localdate()
    mine = [
        CandidateFactory(
            centre=centre_a,
            certification=certification,
            registered_on=today - timedelta(days=n % 7),
            status=S.DELIBERATED if n % 3 else S.REGISTERED,
            with_dossier=False,
        )
        for n in range(PAGE_SIZE + 7)
    ]
    CandidateFactory(centre=centre_b, certification=certification, with_dossier=False)
    return sorted(mine, key=lambda c: (c.registered_on, c.pk), reverse=True)


@pytest.mark.django_db
def test_the_list_pages_next_previous_and_first(client_a, listed_a, django_assert_max_num_queries):
    expected = [c.reference for c in listed_a]
    first = client_a.get(reverse(LIST))
    assert references(first) == expected[:PAGE_SIZE]
    assert nav_link(first, "Premiers") is None and nav_link(first, "Précédents") is None
    content = first.content.decode()
    assert '<nav aria-label="Pages de la liste des candidats"' in content and 'rel="next"' in content
    assert f"{len(expected)} candidats" in content  # centre A only

    with django_assert_max_num_queries(6):  # session, user, centres, count, rows, CQPM codes
        second = client_a.get(nav_link(first, "Suivants"))
    assert references(second) == expected[PAGE_SIZE:]
    assert nav_link(second, "Suivants") is None and 'rel="prev"' in second.content.decode()
    assert f"{len(expected)} candidats" in second.content.decode()
    assert "vous lisez la suite de la liste" in second.content.decode()
    assert references(client_a.get(nav_link(second, "Précédents"))) == expected[:PAGE_SIZE]
    assert references(client_a.get(nav_link(second, "Premiers"))) == expected[:PAGE_SIZE]


@pytest.mark.django_db
def test_the_links_keep_the_filters_but_not_the_search(client_a, listed_a, monkeypatch):
    monkeypatch.setattr("candidates.views.PAGE_SIZE", 10)
    url = reverse(LIST)
    client_a.post(url, {"q": "Candidat", "status": S.DELIBERATED, "pathway": Pathway.EMPLOYEE})
    first = client_a.get(url, {"status": S.DELIBERATED, "pathway": Pathway.EMPLOYEE, "search": "1"})
    following = nav_link(first, "Suivants")
    assert f"status={S.DELIBERATED}" in following and f"pathway={Pathway.EMPLOYEE}" in following
    assert "search=1" in following and "Candidat" not in following and "q=" not in following
    deliberated = [c.reference for c in listed_a if c.status == S.DELIBERATED]
    seen, response = references(first), first
    while following:
        response = client_a.get(following)
        seen += references(response)
        following = nav_link(response, "Suivants")
        assert following is None or following.count("apres=") == 1
    assert seen == deliberated
    back = nav_link(response, "Précédents")
    assert f"status={S.DELIBERATED}" in back and back.count("avant=") == 1 and "apres=" not in back
    first_link = nav_link(response, "Premiers")
    assert "apres=" not in first_link and "avant=" not in first_link and "status=" in first_link
    # The export from a later page: every matching row, not the page's.
    export = client_a.get(reverse("candidates:export"), {"status": S.DELIBERATED, "apres": "20200101-1"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) - 1 == len(deliberated)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"apres": "n'importe quoi"},
        {"avant": "20261340-1"},
        {"apres": "19000101-1"},  # past the end
        {"avant": "30000101-1"},  # before the start
        {"apres": "20260309-" + "9" * 30},
        {"avant": "x", "apres": "y"},
        {"page": "3"},  # a link from before the cursors
        {"page": "abc"},
    ],
)
def test_a_stale_or_hand_made_cursor_shows_the_first_page(client_a, listed_a, params):
    response = client_a.get(reverse(LIST), params)
    assert references(response) == [c.reference for c in listed_a[:PAGE_SIZE]]
    assert nav_link(response, "Suivants") and not response.context["is_filtered"]


@pytest.mark.django_db
def test_the_count_stops_at_the_limit(client_a, listed_a, monkeypatch):
    monkeypatch.setattr(selectors, "LIST_COUNT_LIMIT", 20)
    content = client_a.get(reverse(LIST)).content.decode()
    assert "Plus de 20 candidats" in content and f"{len(listed_a)} candidats" not in content
    # Under the limit, the exact number; one whole page needs no count at all.
    content = client_a.get(reverse(LIST), {"status": S.REGISTERED}).content.decode()
    assert f"{sum(c.status == S.REGISTERED for c in listed_a)} candidats" in content
    assert "Pages de la liste des candidats" not in content


@pytest.mark.django_db
def test_a_cursor_of_another_centre_shows_nothing_of_it(client_a, centre_b, certification, listed_a):
    """A cursor is only a place in the order: rows still come from the user's scope, even where
    another centre's candidates sit between the user's in that order."""
    today = timezone.localdate()
    others = [
        CandidateFactory(
            centre=centre_b,
            certification=certification,
            registered_on=today - timedelta(days=n % 7),
            with_dossier=False,
        )
        for n in range(10)
    ]
    hidden = {c.reference for c in others}
    forward = client_a.get(reverse(LIST), {"apres": encode_list_cursor(listed_a[0])})
    assert references(forward) == [c.reference for c in listed_a[1 : 1 + PAGE_SIZE]]
    backward = client_a.get(reverse(LIST), {"avant": encode_list_cursor(listed_a[-1])})
    assert references(backward) == [c.reference for c in listed_a[-1 - PAGE_SIZE : -1]]
    from_theirs = client_a.get(reverse(LIST), {"apres": encode_list_cursor(others[0])})
    assert set(references(from_theirs)) <= {c.reference for c in listed_a}
    for response in (forward, backward, from_theirs):
        content = response.content.decode()
        assert not hidden & set(references(response))
        assert f"{len(listed_a)} candidats" in content
