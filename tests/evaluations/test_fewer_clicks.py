"""Fewer clicks (issue 16): after submitting a sheet the evaluator goes on to the next competency to
score; the convocation list leaves out the candidates already convened to a session still to come."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates.models import CandidateStatus
from evaluations import selectors
from tests.candidates.factories import CandidateFactory
from tests.evaluations.factories import ConvocationFactory, EvaluationSessionFactory

pytestmark = pytest.mark.django_db


def _submit(client, world, competency):
    sheet = world.sheet(world.president, competency)
    data = {"version": sheet.version, "conclusion": "acquired", "justification": "", "action": "submit"}
    for criterion in world.criteria(competency):
        data[f"j-{criterion.pk}"] = "acquired"
    return client.post(reverse("evaluations:score", args=[world.candidate.pk, competency.pk]), data)


def test_after_submitting_a_sheet_the_next_competency_opens(world):
    client = Client()
    client.force_login(world.president)
    competencies = world.competencies
    response = _submit(client, world, competencies[0])
    assert response.status_code == 302
    assert response.url == reverse("evaluations:score", args=[world.candidate.pk, competencies[1].pk])
    page = client.get(response.url).content.decode()
    assert f"Compétence suivante à noter : C{competencies[1].number}." in page
    # the last one submitted goes back to the first competency still in draft…
    response = _submit(client, world, competencies[-1])
    assert response.url == reverse("evaluations:score", args=[world.candidate.pk, competencies[1].pk])
    for competency in competencies[1:-1]:
        _submit(client, world, competency)
    # …and when none is left, the locked sheet stays on screen
    sheet = world.sheet(world.president, competencies[0])
    assert sheet.status == "submitted"


def test_convocation_list_leaves_out_candidates_convened_to_an_upcoming_session(world):
    upcoming = EvaluationSessionFactory(
        commission=world.commission, date=timezone.localdate() + datetime.timedelta(days=5)
    )
    later = EvaluationSessionFactory(
        commission=world.commission, date=timezone.localdate() + datetime.timedelta(days=9)
    )
    waiting = CandidateFactory(centre=world.centre, status=CandidateStatus.DOSSIER_VALIDATED)
    convened = CandidateFactory(centre=world.centre, status=CandidateStatus.IN_EVALUATION)
    ConvocationFactory(session=upcoming, candidate=convened)
    choices = set(selectors.convenable_candidates(later))
    assert waiting in choices and convened not in choices
    # convened to a past session only (e.g. a competency left to evaluate): still in the list
    assert world.candidate in choices
