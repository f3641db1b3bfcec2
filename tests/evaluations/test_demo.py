import io

import pytest
from django.core.management import call_command

from candidates.models import CandidateStatus
from core.models import User
from evaluations.models import CommissionMember, CommissionProposal, CompanyOpinion, ScoringSheet
from evaluations.selectors import scored_competencies, to_score_rows

pytestmark = pytest.mark.django_db


def _counts():
    from evaluations import models

    return {
        name: getattr(models, name).objects.count()
        for name in (
            "Commission",
            "CommissionMember",
            "EvaluationSession",
            "Convocation",
            "ScoringSheet",
            "CriterionJudgement",
            "CommissionProposal",
            "CompanyOpinion",
            "TutorInvitation",
        )
    }


def test_demo_data_is_idempotent_and_gives_each_role_something_to_do():
    call_command("seed_demo", stdout=io.StringIO())
    first = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first
    evaluator_a = User.objects.get(username="evaluator-a")
    evaluator_b = User.objects.get(username="evaluator-b")
    commission_a = CommissionMember.objects.get(user=evaluator_a).commission
    commission_b = CommissionMember.objects.get(user=evaluator_b).commission
    assert commission_a != commission_b and commission_a.centre == commission_b.centre
    assert to_score_rows(evaluator_a) and to_score_rows(evaluator_b)
    assert ScoringSheet.objects.filter(status="draft", version__gt=1).exists()
    awaiting = CommissionProposal.objects.values_list("candidate", flat=True).distinct()
    candidates = {p.candidate for p in CommissionProposal.objects.select_related("candidate")}
    assert len(set(awaiting)) >= 3
    for candidate in candidates:
        # the deliberations demo may already have deliberated them
        assert candidate.status in (CandidateStatus.AWAITING_DELIBERATION, CandidateStatus.DELIBERATED)
        assert set(candidate.commission_proposals.values_list("competency", flat=True)) == set(
            scored_competencies(candidate).values_list("pk", flat=True)
        )
    assert CommissionProposal.objects.filter(recorded_by=evaluator_b, has_divergence=True).exists()
    signed = CompanyOpinion.objects.filter(signed_by__username="tutor-a")
    assert signed.exists()
    assert CompanyOpinion.objects.filter(tutor__user__username="tutor-b", signed_at__isnull=True).exists()
