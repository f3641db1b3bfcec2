"""Evaluator pages: scope (403/404 for every scoring URL), drafts, autosave, locking, concurrent edits,
independent judgement, the commission proposal, the grid PDF and query budgets."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from evaluations.models import CommissionProposal, CriterionJudgement, SheetStatus
from tests.candidates.factories import CandidateFactory
from tests.evaluations.conftest import build_world, judge_all
from tests.evaluations.factories import EvaluationSessionFactory

pytestmark = pytest.mark.django_db


def login(user):
    client = Client()
    client.force_login(user)
    return client


def grid_post(world, sheet, value="acquired", conclusion="", justification="", action="save", version=None):
    data = {
        "version": sheet.version if version is None else version,
        "conclusion": conclusion,
        "justification": justification,
        "action": action,
    }
    for criterion in world.criteria(sheet.competency):
        data[f"j-{criterion.pk}"] = value
        data[f"c-{criterion.pk}"] = f"obs {value}"
    return data


def scoring_urls(candidate, competency):
    args = [candidate.pk, competency.pk]
    return [
        ("get", reverse("evaluations:score", args=args)),
        ("post", reverse("evaluations:score", args=args)),
        ("get", reverse("evaluations:autosave", args=args)),
        ("post", reverse("evaluations:autosave", args=args)),
        ("get", reverse("evaluations:proposal", args=args)),
        ("post", reverse("evaluations:proposal", args=args)),
        ("get", reverse("evaluations:grid_pdf", args=args)),
        ("get", reverse("evaluations:grid_pdf", args=args) + "?rempli=1"),
    ]


@pytest.fixture
def two_commissions(db, django_capture_on_commit_callbacks):
    """Two commissions of the same centre, each with its own convened candidate."""
    with django_capture_on_commit_callbacks(execute=True):
        first = build_world()
        second = build_world(code="A")
    return first, second


def test_an_evaluator_of_another_commission_gets_404_on_every_scoring_url(two_commissions):
    first, second = two_commissions
    assert first.centre == second.centre and first.commission != second.commission
    competency = first.competencies[0]
    for outsider in (second.president, second.member):
        client = login(outsider)
        for method, url in scoring_urls(first.candidate, competency):
            response = getattr(client, method)(
                url, grid_post(first, first.sheet(first.member)) if method == "post" else None
            )
            assert response.status_code == 404, (outsider, method, url, response.status_code)
    # nothing was written by those attempts
    assert not CriterionJudgement.objects.filter(sheet__candidate=first.candidate).exists()
    assert not CommissionProposal.objects.exists()


def test_other_centre_evaluator_gets_404_and_other_roles_get_403(two_commissions):
    first, _second = two_commissions
    foreign = build_world(code="B")
    competency = first.competencies[0]
    for method, url in scoring_urls(first.candidate, competency):
        response = getattr(login(foreign.member), method)(url)
        assert response.status_code == 404, (method, url)
    tutor = first.candidate.tutor.user
    for user in (tutor,):
        client = login(user)
        for method, url in scoring_urls(first.candidate, competency):
            assert getattr(client, method)(url).status_code == 403, (method, url)
    staff_client = login(first.staff)
    for method, url in scoring_urls(first.candidate, competency)[:6]:
        assert getattr(staff_client, method)(url).status_code == 403, (method, url)


def test_a_member_withdrawn_for_conflict_loses_access(world):
    from evaluations import services

    services.declare_conflict(user=world.member, candidate=world.candidate, reason="Voisin", by=world.staff)
    client = login(world.member)
    for method, url in scoring_urls(world.candidate, world.competencies[0]):
        assert getattr(client, method)(url).status_code == 404, (method, url)


def test_scoring_page_lists_criteria_by_category_and_saves_a_draft_without_js(world):
    client = login(world.member)
    sheet = world.sheet(world.member)
    url = reverse("evaluations:score", args=[world.candidate.pk, sheet.competency_id])
    page = client.get(url).content.decode()
    for label in ("Méthodes utilisées", "Moyens utilisés", "Liens professionnels / relationnels"):
        assert label in page
    assert 'name="version" id="id_version" value="1"' in page
    assert 'type="radio"' in page and "<script>" not in page
    response = client.post(url, grid_post(world, sheet, "not_observed"))
    assert response.status_code == 302
    reloaded = client.get(url).content.decode()
    assert 'value="not_observed" checked' in reloaded
    assert "obs not_observed" in reloaded
    assert 'name="version" id="id_version" value="2"' in reloaded


def test_autosave_saves_each_change_and_returns_the_new_version(world):
    client = login(world.member)
    sheet = world.sheet(world.member)
    criterion = world.criteria()[0]
    url = reverse("evaluations:autosave", args=[world.candidate.pk, sheet.competency_id])
    response = client.post(url, {"version": 1, f"j-{criterion.pk}": "acquired"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Brouillon enregistré" in body
    assert 'id="id_version" value="2" hx-swap-oob="true"' in body
    assert CriterionJudgement.objects.get(sheet=sheet, criterion=criterion).judgement == "acquired"
    # the page reloaded shows the draft
    page = client.get(
        reverse("evaluations:score", args=[world.candidate.pk, sheet.competency_id])
    ).content.decode()
    assert f'id="j-{criterion.pk}-acquired" value="acquired" checked' in page
    assert client.get(url).status_code == 405


def test_autosave_flags_a_contradiction_live(world):
    client = login(world.member)
    sheet = world.sheet(world.member)
    url = reverse("evaluations:autosave", args=[world.candidate.pk, sheet.competency_id])
    data = grid_post(world, sheet, "not_acquired", conclusion="acquired")
    body = client.post(url, data).content.decode()
    assert "une justification écrite est obligatoire" in body


def test_concurrent_edit_from_two_clients_gets_a_conflict_and_keeps_the_input(world):
    tablet, laptop = login(world.member), login(world.member)
    sheet = world.sheet(world.member)
    url = reverse("evaluations:score", args=[world.candidate.pk, sheet.competency_id])
    tablet.get(url)
    laptop.get(url)  # both pages loaded version 1
    assert tablet.post(url, grid_post(world, sheet, "acquired", version=1)).status_code == 302
    response = laptop.post(url, grid_post(world, sheet, "not_acquired", version=1))
    assert response.status_code == 409
    page = response.content.decode()
    assert "modifiée entre-temps" in page
    # the laptop's input is kept on screen, the saved value is shown next to it
    first = world.criteria()[0]
    assert f'id="j-{first.pk}-not_acquired" value="not_acquired" checked' in page
    assert "Valeur enregistrée entre-temps" in page and "Acquis" in page
    # nothing of the stale save was written
    assert set(CriterionJudgement.objects.filter(sheet=sheet).values_list("judgement", flat=True)) == {
        "acquired"
    }
    # the page now carries the current version: saving again is a deliberate overwrite
    assert 'name="version" id="id_version" value="2"' in page
    assert laptop.post(url, grid_post(world, sheet, "not_acquired", version=2)).status_code == 302
    assert set(CriterionJudgement.objects.filter(sheet=sheet).values_list("judgement", flat=True)) == {
        "not_acquired"
    }


def test_concurrent_autosave_gets_409_with_the_conflict_message(world):
    tablet, laptop = login(world.member), login(world.member)
    sheet = world.sheet(world.member)
    url = reverse("evaluations:autosave", args=[world.candidate.pk, sheet.competency_id])
    criterion = world.criteria()[0]
    assert tablet.post(url, {"version": 1, f"j-{criterion.pk}": "acquired"}).status_code == 200
    response = laptop.post(url, {"version": 1, f"j-{criterion.pk}": "not_acquired"})
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-state="conflict"' in body and "modifiée entre-temps" in body
    assert CriterionJudgement.objects.get(sheet=sheet, criterion=criterion).judgement == "acquired"


def test_incomplete_submission_keeps_the_draft_and_explains(world):
    client = login(world.member)
    sheet = world.sheet(world.member)
    url = reverse("evaluations:score", args=[world.candidate.pk, sheet.competency_id])
    data = grid_post(world, sheet, "acquired", action="submit")
    del data[f"j-{world.criteria()[0].pk}"]
    data["conclusion"] = "acquired"
    response = client.post(url, data)
    assert response.status_code == 400
    assert "sans appréciation" in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.DRAFT and sheet.judgements.exclude(judgement="").count() == 3


def test_contradiction_without_justification_is_refused_then_accepted(world):
    client = login(world.member)
    sheet = world.sheet(world.member)
    url = reverse("evaluations:score", args=[world.candidate.pk, sheet.competency_id])
    response = client.post(
        url, grid_post(world, sheet, "not_acquired", conclusion="acquired", action="submit")
    )
    assert response.status_code == 400 and "justification écrite est obligatoire" in response.content.decode()
    sheet.refresh_from_db()
    response = client.post(
        url,
        grid_post(
            world,
            sheet,
            "not_acquired",
            conclusion="acquired",
            justification="Rattrapé à l'oral",
            action="submit",
        ),
    )
    assert response.status_code == 302
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.SUBMITTED


def test_submitted_sheet_is_read_only_and_refuses_posts(world):
    sheet = judge_all(world, world.member, "acquired", conclusion="acquired")
    client = login(world.member)
    url = reverse("evaluations:score", args=[world.candidate.pk, sheet.competency_id])
    page = client.get(url).content.decode()
    assert "verrouillée" in page and "Soumettre la fiche" not in page and " disabled" in page
    response = client.post(url, grid_post(world, sheet, "not_acquired", conclusion="not_acquired"))
    assert response.status_code == 400 and "verrouillée" in response.content.decode()
    autosave = client.post(
        reverse("evaluations:autosave", args=[world.candidate.pk, sheet.competency_id]),
        grid_post(world, sheet, "not_acquired"),
    )
    assert autosave.status_code == 409
    assert set(sheet.judgements.values_list("judgement", flat=True)) == {"acquired"}


def test_independent_judgement_co_members_are_visible_only_after_submitting(world):
    judge_all(
        world, world.president, "not_observed", conclusion="not_acquired", justification="", submit=True
    )
    CriterionJudgement.objects.filter(sheet=world.sheet(world.president)).update(
        comment="secret du président"
    )
    client = login(world.member)
    competency = world.competencies[0]
    score_url = reverse("evaluations:score", args=[world.candidate.pk, competency.pk])
    proposal_url = reverse("evaluations:proposal", args=[world.candidate.pk, competency.pk])
    assert "secret du président" not in client.get(score_url).content.decode()
    locked = client.get(proposal_url)
    assert locked.status_code == 403 and "secret du président" not in locked.content.decode()
    judge_all(world, world.member, "acquired", conclusion="acquired")
    assert "secret du président" in client.get(score_url).content.decode()
    page = client.get(proposal_url).content.decode()
    assert "secret du président" in page and "divergence" in page


def test_president_records_the_proposal_when_members_disagree(world):
    judge_all(world, world.president, "acquired", conclusion="acquired")
    judge_all(world, world.member, "not_acquired", conclusion="not_acquired")
    competency = world.competencies[0]
    url = reverse("evaluations:proposal", args=[world.candidate.pk, competency.pk])
    assert login(world.member).post(url, {"conclusion": "acquired", "reason": "x"}).status_code == 403
    president = login(world.president)
    assert (
        "les membres ne sont pas unanimes" in president.get(reverse("evaluations:to_score")).content.decode()
    )
    response = president.post(url, {"conclusion": "acquired", "reason": ""})
    assert response.status_code == 400 and not CommissionProposal.objects.exists()
    response = president.post(
        url, {"conclusion": "acquired", "reason": "Gestes maîtrisés lors de l'observation"}
    )
    assert response.status_code == 302
    proposal = CommissionProposal.objects.get()
    assert proposal.recorded_by == world.president and proposal.has_divergence


def test_to_score_lists_assigned_candidates_with_sheet_states(world):
    judge_all(world, world.member, "acquired", conclusion="acquired")
    page = login(world.member).get(reverse("evaluations:to_score")).content.decode()
    assert world.candidate.reference in page
    assert "soumise" in page and "à noter" in page


def test_grid_pdf_blank_and_filled(world):
    judge_all(world, world.member, "acquired", conclusion="acquired")
    competency = world.competencies[0]
    url = reverse("evaluations:grid_pdf", args=[world.candidate.pk, competency.pk])
    for client in (login(world.member), login(world.staff)):
        for suffix in ("", "?rempli=1"):
            response = client.get(url + suffix)
            assert response.status_code == 200
            assert response["Content-Type"] == "application/pdf"
            assert response.content.startswith(b"%PDF")
            assert world.candidate.reference in response["Content-Disposition"]


def _many_candidates(world, count):
    from evaluations import services

    session = EvaluationSessionFactory(commission=world.commission)
    for index in range(count):
        candidate = CandidateFactory(centre=world.centre, status="dossier_validated")
        services.convene_candidate(
            session=session,
            candidate=candidate,
            time_slot=(datetime.datetime(2026, 1, 1, 8) + datetime.timedelta(minutes=10 * index)).time(),
            by=world.staff,
        )


@pytest.mark.parametrize("rows", [5, 50])
def test_to_score_query_budget_is_constant(world, rows, django_assert_max_num_queries):
    _many_candidates(world, rows)
    client = login(world.member)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("evaluations:to_score"))
    assert response.content.decode().count("/notation/") >= rows * len(world.competencies)


@pytest.mark.parametrize("criteria", [5, 50])
def test_scoring_page_query_budget_is_constant(world, criteria, django_assert_max_num_queries):
    from referential.models import Criterion, CriterionCategory

    competency = world.competencies[0]
    Criterion.objects.filter(competency=competency).delete()
    categories = list(CriterionCategory.values)
    for order in range(1, criteria + 1):
        Criterion.objects.create(
            competency=competency, category=categories[order % 4], order=order, text=f"Critère numéro {order}"
        )
    sheet = world.sheet(world.member)
    for criterion in competency.criteria.all():
        CriterionJudgement.objects.create(sheet=sheet, criterion=criterion, judgement="acquired")
    client = login(world.member)
    url = reverse("evaluations:score", args=[world.candidate.pk, competency.pk])
    # session, user, centres; the scoped sheet, the grid (criteria + judgements), the referential's
    # texts, the competency tabs
    with django_assert_max_num_queries(7):
        response = client.get(url)
    assert len(re.findall(r'value="acquired" checked', response.content.decode())) == criteria
