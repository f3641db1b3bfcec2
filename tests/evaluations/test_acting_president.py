"""A president in conflict of interest with a candidate cannot record the commission's proposals for
him: when the members disagree, staff designate one of the members assigned to the candidate (without
conflict) as « président(e) de séance » for that candidate only."""

import datetime

import pytest
from django.urls import reverse

from candidates.models import CandidateStatus
from core.exceptions import BusinessRuleError
from core.models import AuditEvent
from evaluations import selectors, services
from evaluations.models import CommissionProposal, Convocation
from tests.candidates.factories import CandidateFactory
from tests.evaluations.conftest import judge_all
from tests.evaluations.factories import CommissionMemberFactory, ConflictOfInterestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conflicted(world):
    """A second candidate, convened without the president (conflict declared), before two members."""
    second_member = CommissionMemberFactory(commission=world.commission).user
    candidate = CandidateFactory(centre=world.centre, status=CandidateStatus.DOSSIER_VALIDATED)
    ConflictOfInterestFactory(user=world.president, candidate=candidate)
    convocation = services.convene_candidate(
        session=world.session, candidate=candidate, time_slot=datetime.time(11), by=world.staff
    )
    candidate.refresh_from_db()
    assert set(convocation.evaluators.all()) == {world.member, second_member}
    competency = candidate.certification.competencies.order_by("number").first()
    world.candidate = candidate  # judge_all works on world.candidate
    judge_all(world, world.member, "acquired", conclusion="acquired", competency=competency)
    judge_all(world, second_member, "not_acquired", conclusion="not_acquired", competency=competency)
    return {
        "candidate": candidate,
        "convocation": convocation,
        "competency": competency,
        "second_member": second_member,
    }


def record(candidate, competency, by):
    return services.record_proposal(
        candidate=candidate, competency=competency, conclusion="acquired", reason="Résultat atteint", by=by
    )


def test_the_designated_member_records_the_proposal_the_president_could_not(world, conflicted):
    candidate, competency = conflicted["candidate"], conflicted["competency"]
    with pytest.raises(BusinessRuleError, match="Conflit d'intérêts"):
        record(candidate, competency, world.president)
    with pytest.raises(BusinessRuleError, match="Seul le président"):
        record(candidate, competency, world.member)
    assert selectors.proposals_to_arbitrate(world.member) == []

    services.designate_acting_president(
        convocation=conflicted["convocation"], user=world.member, by=world.staff
    )
    assert Convocation.objects.get(pk=conflicted["convocation"].pk).acting_president == world.member
    assert AuditEvent.objects.filter(
        action="evaluations.acting_president_designated", actor=world.staff
    ).exists()
    pending = selectors.proposals_to_arbitrate(world.member)
    assert [(p["candidate"].pk, p["competency"].pk) for p in pending] == [(candidate.pk, competency.pk)]
    assert selectors.proposals_to_arbitrate(conflicted["second_member"]) == []  # only the one designated
    proposal = record(candidate, competency, world.member)
    assert proposal.recorded_by == world.member and proposal.has_divergence
    # for this candidate only: the first candidate's proposals stay the president's
    with pytest.raises(BusinessRuleError, match="Seul le président"):
        record(world.convocation.candidate, world.competencies[0], world.member)


def test_designation_rules(world, conflicted):
    convocation = conflicted["convocation"]
    # the president has no conflict with the first candidate: no one replaces him there
    with pytest.raises(BusinessRuleError, match="n'a pas de conflit"):
        services.designate_acting_president(convocation=world.convocation, user=world.member, by=world.staff)
    # only a member assigned to the candidate, without conflict of his own
    outsider = CommissionMemberFactory(commission=world.commission).user
    with pytest.raises(BusinessRuleError, match="membre affecté"):
        services.designate_acting_president(convocation=convocation, user=outsider, by=world.staff)
    ConflictOfInterestFactory(user=conflicted["second_member"], company=conflicted["candidate"].company)
    with pytest.raises(BusinessRuleError, match="Conflit d'intérêts"):
        services.designate_acting_president(
            convocation=convocation, user=conflicted["second_member"], by=world.staff
        )
    assert Convocation.objects.get(pk=convocation.pk).acting_president is None
    # withdrawn from the candidate, the designated member no longer acts for him
    services.designate_acting_president(convocation=convocation, user=world.member, by=world.staff)
    services.unassign_evaluator(convocation=convocation, user=world.member, by=world.staff)
    assert Convocation.objects.get(pk=convocation.pk).acting_president is None
    assert not selectors.is_president_for(world.member, conflicted["candidate"])


def test_the_session_board_offers_the_designation_only_where_the_president_is_in_conflict(
    client, world, conflicted
):
    client.force_login(world.staff)
    url = reverse("evaluations:session_detail", args=[world.session.pk])
    action = reverse("evaluations:acting_president", args=[conflicted["convocation"].pk])
    body = client.get(url).content.decode()
    assert f'action="{action}"' in body
    first = reverse("evaluations:acting_president", args=[world.convocation.pk])
    assert f'action="{first}"' not in body
    response = client.post(action, {"user": world.member.pk}, follow=True)
    assert "enregistrera les propositions" in response.content.decode()
    assert Convocation.objects.get(pk=conflicted["convocation"].pk).acting_president == world.member
    assert "Président(e) de séance :" not in body  # nobody designated before
    assert f"Président(e) de séance : {world.member.get_full_name()}" in response.content.decode()
    # a user id that is not assigned to this convocation: a message, nothing changes
    response = client.post(action, {"user": world.president.pk}, follow=True)
    assert "Choisissez un membre affecté" in response.content.decode()
    assert Convocation.objects.get(pk=conflicted["convocation"].pk).acting_president == world.member
    assert not CommissionProposal.objects.filter(candidate=conflicted["candidate"]).exists()
