"""The statistics page drawn from the cache: per scope, as long as the figures, never another centre's."""

import re
import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from reporting import statistics as statistics_module
from reporting.statistics import StatisticsFilter, invalidate
from tests.candidates.factories import CandidateFactory
from tests.core.factories import CentreFactory, StaffFactory
from tests.referential.factories import CertificationFactory
from tests.reporting.builders import deliberated

from .html import tables
from .test_statistics import D, data  # noqa: F401  (fixture)

URL = "/statistiques/"


def summary(html, name):
    return re.search(rf'data-stat="{name}">([^<]*)<', html).group(1)


def page(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("reporting:statistics"), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def clock(monkeypatch):
    """time.time() under the test's control (the cache's expiry and the figures' stamp use it)."""
    now = [1_900_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def test_a_centres_staff_never_sees_another_centres_cached_figures(data, client):  # noqa: F811
    staff_a = data["staff"]
    staff_b = StaffFactory(centres=[CentreFactory._meta.model.objects.get(code="B")])
    html_a = page(client, staff_a)
    html_b = page(client, staff_b)  # A's figures are in the cache now
    assert summary(html_a, "registrations") == "6"
    assert summary(html_b, "registrations") == "1"
    assert [row[0] for row in tables(html_b)["by_centre"][1:]] == ["Centre B"]
    assert "Centre A" not in html_b and "Alpha Mécanique" not in html_b
    # And the other way round, both from the cache this time.
    assert summary(page(client, staff_a), "registrations") == "6"
    assert summary(page(client, staff_b), "registrations") == "1"
    keys = {StatisticsFilter(None, user=user).cache_key() for user in (staff_a, staff_b, data["admin"])}
    assert len(keys) == 3


def test_the_page_is_served_from_the_cache_without_rendering_again(data, client, monkeypatch):  # noqa: F811
    drawn = []
    original = statistics_module.compute_statistics
    monkeypatch.setattr(
        "reporting.statistics.compute_statistics", lambda f: drawn.append(1) or original(f), raising=True
    )
    first = page(client, data["staff"])
    second = page(client, data["staff"])
    other_filters = page(client, data["staff"], pathway="vae")
    assert len(drawn) == 2  # the first page and the other filters; the second page came from the cache
    assert tables(first) == tables(second)
    assert summary(other_filters, "registrations") == "1"


def test_cached_page_holds_nothing_of_the_user(data, client):  # noqa: F811
    colleague = StaffFactory(
        centres=[data["centre_a"]], first_name="Zoé", last_name="Colleague", username="colleague"
    )
    first = page(client, data["staff"])
    second = page(client, colleague)  # same centres, same filters: the same cached figures
    assert tables(first) == tables(second)
    assert data["staff"].last_name not in second and "Zoé Colleague" in second
    tokens = {
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1) for html in (first, second)
    }
    assert len(tokens) == 2


def test_figures_and_page_change_when_the_cached_figures_expire(data, client, clock, settings):  # noqa: F811
    settings.CQPM = {**settings.CQPM, "STATISTICS_CACHE_SECONDS": 300}
    staff = data["staff"]
    assert summary(page(client, staff), "registrations") == "6"
    CandidateFactory(centre=data["centre_a"], certification=data["cqpm1"], registered_on=D(2026, 4, 2))
    clock[0] += 200
    assert summary(page(client, staff), "registrations") == "6"  # cached, as designed (5 minutes)
    clock[0] += 101
    assert summary(page(client, staff), "registrations") == "7"


def test_page_never_outlives_figures_computed_earlier_by_an_export(data, client, clock, settings):  # noqa: F811
    settings.CQPM = {**settings.CQPM, "STATISTICS_CACHE_SECONDS": 300}
    staff = data["staff"]
    client.force_login(staff)
    export = client.get(reverse("reporting:statistics"), {"table": "by_cqpm", "export": "csv"})
    assert export.status_code == 200  # the figures are cached from now on
    clock[0] += 250
    assert summary(page(client, staff), "registrations") == "6"  # drawn from those figures
    CandidateFactory(centre=data["centre_a"], certification=data["cqpm1"], registered_on=D(2026, 4, 2))
    clock[0] += 51  # the figures expire: the page drawn 51 s ago must not be served any more
    assert summary(page(client, staff), "registrations") == "7"


def test_invalidate_forgets_figures_and_page(data, client):  # noqa: F811
    staff = data["staff"]
    assert summary(page(client, staff), "registrations") == "6"
    CandidateFactory(centre=data["centre_a"], certification=data["cqpm1"], registered_on=D(2026, 4, 2))
    assert summary(page(client, staff), "registrations") == "6"
    invalidate(StatisticsFilter(None, user=staff))
    assert summary(page(client, staff), "registrations") == "7"


def test_an_invalid_filter_does_not_poison_the_unfiltered_page(data, client):  # noqa: F811
    other_centre = CentreFactory._meta.model.objects.get(code="B")
    html = page(client, data["staff"], centre=str(other_centre.pk))
    assert summary(html, "registrations") == "0"
    assert summary(page(client, data["staff"]), "registrations") == "6"


def test_language_is_part_of_the_key(data):  # noqa: F811
    filterset = StatisticsFilter(None, user=data["staff"])
    with translation.override("fr"):
        french = filterset.cache_key()
    with translation.override("en"):
        english = filterset.cache_key()
    assert french != english


def test_long_table_shows_its_first_rows_and_opens_whole_on_its_own_page(data, client, monkeypatch):  # noqa: F811
    monkeypatch.setattr(statistics_module, "COMPANY_TABLE_LIMIT", 1)
    html = page(client, data["staff"])
    company_rows = tables(html)["by_company"][1:]
    assert [row[0] for row in company_rows] == ["Alpha Mécanique"]  # the most registrations first
    link = re.search(r'<a href="\?([^"]*table=by_company)">Afficher les 3 lignes', html)
    assert link, "link to the whole table"
    whole = client.get(URL + "?" + link.group(1).replace("&amp;", "&"))
    assert whole.status_code == 200
    whole_html = whole.content.decode()
    assert len(tables(whole_html)["by_company"]) == 1 + 3
    assert "<h1" in whole_html and "Afficher les 3 lignes" not in whole_html
    assert 'href="/statistiques/?granularity=month"' in whole_html or 'href="/statistiques/"' in whole_html
    # The export still has every row.
    export = client.get(URL, {"table": "by_company", "export": "csv"}).content.decode("utf-8-sig")
    assert len(export.strip().splitlines()) == 1 + 3


def test_unknown_table_page_is_404(data, client):  # noqa: F811
    client.force_login(data["staff"])
    assert client.get(URL, {"table": "nope"}).status_code == 404
    assert not [key for key in cache._cache if ":html:" in key]  # nothing cached for it


@pytest.mark.parametrize("n", [5, 50])
def test_cached_page_query_count_does_not_grow_with_data(db, client, django_assert_max_num_queries, n):
    centre = CentreFactory(code="Q")
    certification = CertificationFactory()
    for _ in range(n):
        deliberated(centre, certification, issued=D(2026, 3, 20), registered_on=D(2026, 1, 1))
    client.force_login(StaffFactory(centres=[centre]))
    assert client.get(URL).status_code == 200
    # From the cache: session, user, the user's centres. Nothing else, at 5 or 50 candidates.
    with django_assert_max_num_queries(3):
        response = client.get(URL)
    assert response.status_code == 200 and 'data-stat="registrations">' + str(n) in response.content.decode()
