import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from candidates.models import CandidateStatus
from core.models import Role
from deliberations.models import CandidateOutcome, CompetencyDecision, SessionStatus
from reporting.statistics import StatisticsFilter, compute_statistics
from tests.candidates.factories import CandidateFactory, CompanyFactory
from tests.core.factories import CentreFactory, StaffFactory, UserFactory
from tests.referential.factories import CertificationFactory
from tests.reporting.builders import closed_session, deliberated

from .html import assert_charts_match_tables, section, svg_bars, tables

D = datetime.date


def decide(outcome, acquired_numbers):
    for competency in outcome.candidate.certification.competencies.all():
        value = "acquired" if competency.number in acquired_numbers else "not_acquired"
        CompetencyDecision.objects.create(
            session=outcome.session,
            candidate=outcome.candidate,
            competency=competency,
            proposed=value,
            decided=value,
            decided_at=outcome.decided_at,
        )


@pytest.fixture
def data(db):
    centre_a = CentreFactory(code="A", name="Centre A")
    centre_b = CentreFactory(code="B", name="Centre B")
    cqpm1 = CertificationFactory(code="CQPM-1", title="Usinage")
    cqpm2 = CertificationFactory(code="CQPM-2", title="Maintenance")
    company_x = CompanyFactory(centre=centre_a, name="Alpha Mécanique")
    company_y = CompanyFactory(centre=centre_a, name="Bêta Forge")
    b1, b2 = cqpm1.blocks.order_by("number")
    c1 = deliberated(
        centre_a, cqpm1, issued=D(2026, 3, 20), registered_on=D(2026, 1, 10), company=company_x, tutor=None
    )
    c2 = deliberated(
        centre_a,
        cqpm1,
        issued=D(2026, 3, 20),
        result="partial",
        blocks=[b1],
        registered_on=D(2026, 1, 20),
        company=company_x,
        tutor=None,
    )
    c3 = deliberated(
        centre_a,
        cqpm1,
        issued=D(2026, 3, 20),
        result="failed",
        registered_on=D(2026, 2, 5),
        pathway="vae",
        company=None,
        tutor=None,
    )
    CandidateFactory(
        centre=centre_a,
        certification=cqpm2,
        registered_on=D(2026, 2, 15),
        job_seeker=True,
        status=CandidateStatus.REGISTERED,
    )
    c5 = deliberated(
        centre_a, cqpm1, issued=D(2026, 5, 10), registered_on=D(2026, 4, 1), company=company_y, tutor=None
    )
    # Registered in March, decided in a session still open: a registration, not yet a result.
    c7 = CandidateFactory(
        centre=centre_a, certification=cqpm1, registered_on=D(2026, 3, 1), company=company_y, tutor=None
    )
    open_session = closed_session(centre_a, cqpm1, D(2026, 5, 20))
    open_session.status = SessionStatus.OPEN
    open_session.closed_at = None
    open_session.save()
    CandidateOutcome.objects.create(
        session=open_session, candidate=c7, result="certified", decided_at=c1.decided_at
    )
    # Another centre: only the superuser sees it.
    deliberated(centre_b, cqpm1, issued=D(2026, 3, 25), registered_on=D(2026, 1, 15))
    decide(c1, {1, 2, 3})
    decide(c2, {1, 2})
    decide(c3, set())
    decide(c5, {1, 2, 3})
    staff = StaffFactory(centres=[centre_a])
    admin = UserFactory(role=Role.STAFF, is_superuser=True, is_staff=True)
    return {"staff": staff, "admin": admin, "centre_a": centre_a, "cqpm1": cqpm1}


def stats_for(user, **params):
    return compute_statistics(StatisticsFilter(params, user=user))


def rows(stats, key):
    return stats.table(key).rows


def test_registrations_and_results_per_month(data):
    stats = stats_for(data["staff"])
    assert rows(stats, "registrations_by_period") == [
        ["janvier 2026", 2],
        ["février 2026", 2],
        ["mars 2026", 1],
        ["avril 2026", 1],
        ["mai 2026", 0],
    ]
    assert rows(stats, "results_by_period") == [
        ["janvier 2026", 0, 0, 0, 0, None],
        ["février 2026", 0, 0, 0, 0, None],
        ["mars 2026", 1, 1, 1, 3, 33.3],
        ["avril 2026", 0, 0, 0, 0, None],
        ["mai 2026", 1, 0, 0, 1, 100.0],
    ]
    assert stats.summary == {
        "registrations": 6,
        "deliberated": 4,
        "certified": 2,
        "pass_rate": 50.0,
        "average_days": 52.5,  # (69 + 59 + 43 + 39) / 4
    }


@pytest.mark.parametrize(
    ("granularity", "expected"),
    [("quarter", [["T1 2026", 5], ["T2 2026", 1]]), ("year", [["2026", 6]])],
)
def test_registrations_per_quarter_and_year(data, granularity, expected):
    assert rows(stats_for(data["staff"], granularity=granularity), "registrations_by_period") == expected


def test_breakdowns_per_cqpm_pathway_centre_and_company(data):
    stats = stats_for(data["staff"])
    assert rows(stats, "by_cqpm") == [
        ["CQPM-1 — Usinage", 5, 4, 2, 1, 1, 50.0],
        ["CQPM-2 — Maintenance", 1, 0, 0, 0, 0, None],
    ]
    assert rows(stats, "by_pathway") == [
        ["Demandeur d'emploi", 1, 0, 0, 0, 0, None],
        ["Salarié", 4, 3, 2, 1, 0, 66.7],
        ["VAE (validation des acquis de l'expérience)", 1, 1, 0, 0, 1, 0.0],
    ]
    assert rows(stats, "by_centre") == [["Centre A", 6, 4, 2, 1, 1, 50.0]]
    assert rows(stats, "by_company") == [
        ["Alpha Mécanique", 2, 2, 1, 1, 0, 50.0],
        ["Bêta Forge", 2, 1, 1, 0, 0, 100.0],
        ["Sans entreprise (VAE, demandeur d'emploi…)", 2, 1, 0, 0, 1, 0.0],
    ]


def test_pass_rates_per_bloc_and_competency_and_delay(data):
    stats = stats_for(data["staff"])
    assert rows(stats, "pass_rate_by_block") == [
        ["CQPM-1 — bloc 1 : Préparer l'activité", 4, 3, 75.0],
        ["CQPM-1 — bloc 2 : Réaliser et rendre compte", 4, 2, 50.0],
    ]
    assert rows(stats, "pass_rate_by_competency") == [
        ["CQPM-1 — C1 : Réaliser l'activité 1", 4, 3, 75.0],
        ["CQPM-1 — C2 : Réaliser l'activité 2", 4, 3, 75.0],
        ["CQPM-1 — C3 : Réaliser l'activité 3", 4, 2, 50.0],
    ]
    assert rows(stats, "time_to_deliberation") == [["CQPM-1", 4, 52.5]]


@pytest.mark.parametrize(
    ("params", "registrations", "deliberated"),
    [
        ({"cqpm": "CQPM-2"}, 1, 0),
        ({"pathway": "vae"}, 1, 1),
        ({"date_from": "2026-03-01", "date_to": "2026-03-31"}, 1, 3),
        ({"date_from": "2026-04-01"}, 1, 1),
    ],
)
def test_filters(data, params, registrations, deliberated):
    summary = stats_for(data["staff"], **params).summary
    assert (summary["registrations"], summary["deliberated"]) == (registrations, deliberated)


def test_superuser_sees_every_centre_and_may_pick_one(data):
    stats = stats_for(data["admin"])
    assert rows(stats, "by_centre") == [
        ["Centre A", 6, 4, 2, 1, 1, 50.0],
        ["Centre B", 1, 1, 1, 0, 0, 100.0],
    ]
    only_a = stats_for(data["admin"], centre=str(data["centre_a"].pk))
    assert only_a.summary["registrations"] == 6


def test_staff_cannot_pick_another_centre(data):
    other = CentreFactory(code="B")
    filterset = StatisticsFilter({"centre": str(other.pk)}, user=data["staff"])
    assert not filterset.is_valid()
    assert compute_statistics(filterset).summary["registrations"] == 0


def test_aggregates_are_cached_per_filters(data, django_assert_num_queries):
    stats_for(data["staff"])
    with django_assert_num_queries(0):  # the CQPM choices are read only to draw the form
        stats_for(data["staff"])
    assert stats_for(data["staff"], pathway="vae").summary["registrations"] == 1


# --- the page -----------------------------------------------------------------------------------


def test_page_charts_match_their_tables(data, client):
    client.force_login(data["staff"])
    response = client.get(reverse("reporting:statistics"))
    assert response.status_code == 200
    html = response.content.decode()
    assert assert_charts_match_tables(html, stats_for(data["staff"])) == 9
    parsed = tables(html)
    # A few numbers read straight from the page.
    assert ["mars 2026", "1", "1", "1", "3", "33,3 %"] in parsed["results_by_period"]
    assert ("CQPM-1 — bloc 1 : Préparer l'activité", "", "75.0") in svg_bars(
        section(html, "stat-pass_rate_by_block")
    )


def test_page_charts_are_accessible(data, client):
    client.force_login(data["staff"])
    html = client.get(reverse("reporting:statistics")).content.decode()
    block = section(html, "stat-registrations_by_period")
    assert 'role="img"' in block and 'aria-label="Inscriptions par période"' in block
    assert "<title" in block and "<table" in block


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TUTOR, Role.JURY])
def test_other_roles_are_refused(data, client, role):
    client.force_login(UserFactory(role=role, centres=[data["centre_a"]]))
    assert client.get(reverse("reporting:statistics")).status_code == 403


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("reporting:statistics"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_of_a_table(data, client, fmt):
    client.force_login(data["staff"])
    response = client.get(
        reverse("reporting:statistics"), {"table": "by_cqpm", "export": fmt, "granularity": "month"}
    )
    assert response.status_code == 200
    assert f'statistiques-by_cqpm.{fmt}"' in response["Content-Disposition"]
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    else:
        text = response.content.decode("utf-8-sig")
        values = [line.split(";") for line in text.strip().splitlines()]
    assert values[0][:2] == ["CQPM", "Inscriptions"]
    assert [str(v) for v in values[1][:4]] == ["CQPM-1 — Usinage", "5", "4", "2"]
    assert len(values) == 3


def test_export_neutralises_formulas(data, client):
    CompanyFactory(centre=data["centre_a"], name='=HYPERLINK("http://x")')
    company = data["centre_a"].companies.get(name__startswith="=")
    CandidateFactory(centre=data["centre_a"], certification=data["cqpm1"], company=company, tutor=None)
    client.force_login(data["staff"])
    response = client.get(reverse("reporting:statistics"), {"table": "by_company", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert '\'=HYPERLINK("http://x")' in names


def test_unknown_table_or_format_is_404(data, client):
    client.force_login(data["staff"])
    assert client.get(reverse("reporting:statistics"), {"table": "nope", "export": "csv"}).status_code == 404
    assert (
        client.get(reverse("reporting:statistics"), {"table": "by_cqpm", "export": "pdf"}).status_code == 404
    )


def make_candidates(centre, cqpm, n):
    for index in range(n):
        deliberated(
            centre, cqpm, issued=D(2026, 3, 20), registered_on=D(2026, 1, 1) + datetime.timedelta(days=index)
        )


@pytest.mark.parametrize("n", [5, 50])
def test_page_query_count_does_not_grow_with_data(db, client, django_assert_max_num_queries, n):
    centre = CentreFactory(code="Q")
    make_candidates(centre, CertificationFactory(), n)
    staff = StaffFactory(centres=[centre])
    client.force_login(staff)
    with django_assert_max_num_queries(21):
        response = client.get(reverse("reporting:statistics"))
    assert response.status_code == 200
