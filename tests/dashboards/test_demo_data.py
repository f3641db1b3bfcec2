"""The pages of issue 8 on the demo data (`manage.py seed_demo`): they render, and every chart shows
the numbers of its table. Seeding is slow: each test seeds once and checks several accounts."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.models import User
from reporting.statistics import StatisticsFilter, compute_statistics

from .html import assert_charts_match_tables


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())


def test_statistics_charts_match_tables_on_demo_data(demo, client):
    for username in ("admin", "staff-a"):
        user = User.objects.get(username=username)
        client.force_login(user)
        for granularity in ("month", "quarter", "year"):
            response = client.get(reverse("reporting:statistics"), {"granularity": granularity})
            assert response.status_code == 200
            stats = compute_statistics(StatisticsFilter({"granularity": granularity}, user=user))
            assert stats.summary["registrations"] > 0
            assert assert_charts_match_tables(response.content.decode(), stats) >= 4, (username, granularity)


def test_demo_dashboards_render_with_working_links_and_scoped_counts(demo, client):
    from candidates.models import Candidate

    for username in ("admin", "staff-a", "evaluator-a", "tutor-a", "jury-a"):
        client.force_login(User.objects.get(username=username))
        response = client.get(reverse("home"))
        assert response.status_code == 200
        assert response.context["widgets"], username
        for widget in response.context["widgets"]:
            for item in widget.items[:3]:
                assert client.get(item.url).status_code == 200, (username, widget.key, item.url)
    staff = User.objects.get(username="staff-a")
    client.force_login(staff)
    by_status = next(
        w for w in client.get(reverse("home")).context["widgets"] if w.key == "candidates_by_status"
    )
    assert by_status.count == Candidate.objects.filter(centre__code="A", anonymised_at__isnull=True).count()
    assert client.get(reverse("reporting:accrochage")).status_code == 200
