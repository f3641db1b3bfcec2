import pytest

from evaluations.models import SheetStatus
from evaluations.tokens import hash_token
from tests.evaluations.factories import (
    CommissionMemberFactory,
    CommissionProposalFactory,
    CompanyOpinionFactory,
    ScoringSheetFactory,
    TutorInvitationFactory,
    convened_candidate,
)


@pytest.mark.django_db
def test_factories_build_consistent_objects():
    member = CommissionMemberFactory()
    assert list(member.user.centres.all()) == [member.commission.centre]
    assert member.user.role == "evaluator"

    candidate, convocation, users = convened_candidate(members=3)
    assert convocation.evaluators.count() == 3
    assert sum(1 for m in convocation.session.commission.members.all() if m.is_president) == 1

    sheet = ScoringSheetFactory(candidate=candidate, evaluator=users[0], submitted=True)
    assert sheet.status == SheetStatus.SUBMITTED
    assert sheet.judgements.count() == candidate.certification.competencies.first().criteria.count()

    proposal = CommissionProposalFactory(candidate=candidate)
    assert proposal.competency.certification_id == candidate.certification_id

    signed = CompanyOpinionFactory(candidate=candidate)
    assert signed.tutor == candidate.tutor and signed.signed_at is not None
    draft = CompanyOpinionFactory(
        candidate=candidate, competency=candidate.certification.competencies.last(), signed=False
    )
    assert draft.opinion == "" and draft.signed_at is None

    invitation = TutorInvitationFactory(candidate=candidate, token="abc")
    assert invitation.token_hash == hash_token("abc")
