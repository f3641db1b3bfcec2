"""The jury decides with the evidence in front of it (issue 16): on the decision page, per competency,
the commission's proposal and reason, the evaluators' conclusions, justifications and observations,
and the tutor's opinion and comment — for the jury member of the session, without the evaluation pages."""

import pytest
from django.urls import reverse

from evaluations.models import CommissionProposal, CompanyOpinion, CriterionJudgement
from tests.deliberations.factories import JuryUserFactory, ready_session
from tests.evaluations.factories import EvaluatorFactory, ScoringSheetFactory

pytestmark = pytest.mark.django_db


def test_decision_page_shows_the_evidence_to_the_jury_member(client):
    juror = JuryUserFactory()
    session = ready_session(n=1, jury_user=juror)
    juror.centres.add(session.centre)
    candidate = session.entries.get().candidate
    competency = candidate.certification.competencies.order_by("number").first()
    CommissionProposal.objects.filter(candidate=candidate, competency=competency).update(
        reason="Les deux évaluateurs concluent à l'acquisition.", is_unanimous=True
    )
    evaluator = EvaluatorFactory(first_name="Paule", last_name="Évaluatrice")
    sheet = ScoringSheetFactory(
        candidate=candidate,
        competency=competency,
        evaluator=evaluator,
        submitted=True,
        justification="Maîtrise constatée lors de l'entretien.",
    )
    CriterionJudgement.objects.filter(sheet=sheet).update(comment="A expliqué sa démarche pas à pas.")
    CompanyOpinion.objects.filter(candidate=candidate, competency=competency).update(
        opinion="reserved", comment="Encore hésitant sur les cas complexes."
    )
    client.force_login(juror)
    response = client.get(reverse("deliberations:candidate_decide", args=[session.pk, candidate.pk]))
    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert "Les deux évaluateurs concluent à l'acquisition." in page
    assert "Paule Évaluatrice" in page and "Maîtrise constatée lors de l'entretien." in page
    assert "A expliqué sa démarche pas à pas." in page
    assert "Réservé" in page and "Encore hésitant sur les cas complexes." in page


def test_evidence_is_read_in_a_constant_number_of_queries(django_assert_max_num_queries):
    from deliberations import selectors

    session = ready_session(n=1)
    candidate = session.entries.get().candidate
    for competency in candidate.certification.competencies.all():
        ScoringSheetFactory(candidate=candidate, competency=competency, submitted=True)
    with django_assert_max_num_queries(4):
        evidence = selectors.decision_evidence(session, candidate.pk)
    assert all(evidence[c.pk]["sheets"] for c in candidate.certification.competencies.all())
