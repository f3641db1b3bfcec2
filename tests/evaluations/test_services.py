"""Services of the evaluations app: convening, conflicts, scoring, locking, proposals, history."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from candidates.models import CandidateStatus
from core.exceptions import BusinessRuleError
from core.models import AuditEvent, Notification
from evaluations import services
from evaluations.models import (
    CommissionProposal,
    ConvocationEvaluator,
    CriterionJudgement,
    ScoringSheet,
    SheetStatus,
)
from tests.candidates.factories import CandidateFactory, TutorFactory
from tests.core.factories import StaffFactory
from tests.evaluations.conftest import build_world, judge_all
from tests.evaluations.factories import (
    CommissionMemberFactory,
    ConflictOfInterestFactory,
    EvaluatorFactory,
)

pytestmark = pytest.mark.django_db


# --- convening --------------------------------------------------------------------------------


def test_convening_assigns_members_creates_sheets_and_emails_the_candidate(world):
    competencies = world.competencies
    assert set(world.convocation.evaluators.all()) == {world.president, world.member}
    assert ScoringSheet.objects.filter(candidate=world.candidate).count() == 2 * len(competencies)
    assert world.candidate.status == CandidateStatus.IN_EVALUATION
    world.convocation.refresh_from_db()
    assert world.convocation.convened_at is not None
    sent = [m for m in mail.outbox if m.to == [world.candidate.email]]
    assert len(sent) == 1
    assert "Convocation" in sent[0].subject
    assert "09h00" in sent[0].body and world.session.place in sent[0].body
    assert AuditEvent.objects.filter(action="evaluations.candidate_convened").exists()


def test_convocation_email_is_idempotent_and_resent_on_request(world, django_capture_on_commit_callbacks):
    from evaluations.tasks import send_convocation_email

    send_convocation_email(world.convocation.pk)
    send_convocation_email(world.convocation.pk)
    assert Notification.objects.filter(kind="evaluations.convocation").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_convocation(
            convocation=world.convocation, by=world.staff, time_slot=datetime.time(14, 30)
        )
    bodies = [n.body_text for n in Notification.objects.filter(kind="evaluations.convocation")]
    assert len(bodies) == 2 and any("14h30" in body for body in bodies)


def test_convening_is_refused_for_a_foreign_centre_a_taken_slot_and_an_unvalidated_dossier(world):
    other = build_world(code="B")
    with pytest.raises(BusinessRuleError, match="centre"):
        services.convene_candidate(
            session=world.session, candidate=other.candidate, time_slot=datetime.time(11), by=other.staff
        )
    second = CandidateFactory(centre=world.centre, status=CandidateStatus.DOSSIER_VALIDATED)
    with pytest.raises(BusinessRuleError, match="horaire"):
        services.convene_candidate(
            session=world.session, candidate=second, time_slot=datetime.time(9), by=world.staff
        )
    registered = CandidateFactory(centre=world.centre, status=CandidateStatus.REGISTERED)
    with pytest.raises(BusinessRuleError, match="dossier validé"):
        services.convene_candidate(
            session=world.session, candidate=registered, time_slot=datetime.time(10), by=world.staff
        )


# --- conflicts of interest --------------------------------------------------------------------


def _conflicted_candidate(world, kind):
    candidate = CandidateFactory(centre=world.centre, status=CandidateStatus.DOSSIER_VALIDATED)
    if kind == "declared_candidate":
        ConflictOfInterestFactory(user=world.member, candidate=candidate)
    elif kind == "declared_company":
        ConflictOfInterestFactory(user=world.member, company=candidate.company)
    elif kind == "email_domain":
        TutorFactory(company=candidate.company, email="rh@forges-durand.fr", user=None)
        world.member.email = "jean.dupont@forges-durand.fr"
        world.member.save()
    elif kind == "tutor_of_company":
        candidate.tutor.user = world.member
        candidate.tutor.save()
    return candidate


@pytest.mark.parametrize(
    "kind", ["declared_candidate", "declared_company", "email_domain", "tutor_of_company"]
)
def test_conflicted_member_is_refused_with_a_message_and_left_out_by_default(world, kind):
    candidate = _conflicted_candidate(world, kind)
    with pytest.raises(BusinessRuleError, match="Conflit d'intérêts") as refusal:
        services.convene_candidate(
            session=world.session,
            candidate=candidate,
            time_slot=datetime.time(10),
            by=world.staff,
            evaluators=[world.president, world.member],
        )
    assert world.member.get_full_name() in refusal.value.message
    convocation = services.convene_candidate(
        session=world.session, candidate=candidate, time_slot=datetime.time(10), by=world.staff
    )
    assert list(convocation.evaluators.all()) == [world.president]
    with pytest.raises(BusinessRuleError, match="Conflit d'intérêts"):
        services.assign_evaluator(convocation=convocation, user=world.member, by=world.staff)


def test_public_webmail_domain_is_not_a_conflict(world):
    candidate = CandidateFactory(
        centre=world.centre, status=CandidateStatus.DOSSIER_VALIDATED, email="lea@gmail.com"
    )
    world.member.email = "jean@gmail.com"
    world.member.save()
    convocation = services.convene_candidate(
        session=world.session, candidate=candidate, time_slot=datetime.time(10), by=world.staff
    )
    assert world.member in convocation.evaluators.all()


def test_declaring_a_conflict_withdraws_the_member_and_his_draft_sheets(world):
    conflict = services.declare_conflict(
        user=world.member, candidate=world.candidate, reason="Beau-frère du candidat", by=world.staff
    )
    assert conflict.withdrawn_count == 1
    assert not ConvocationEvaluator.objects.filter(evaluator=world.member).exists()
    assert not ScoringSheet.objects.filter(evaluator=world.member, candidate=world.candidate).exists()
    from evaluations.selectors import candidates_for_evaluator

    assert not candidates_for_evaluator(world.member).filter(pk=world.candidate.pk).exists()


def test_conflict_declaration_needs_a_reason_and_a_target(world):
    with pytest.raises(BusinessRuleError, match="motif"):
        services.declare_conflict(user=world.member, candidate=world.candidate, reason=" ", by=world.staff)
    with pytest.raises(BusinessRuleError, match="entreprise ou le candidat"):
        services.declare_conflict(user=world.member, reason="x", by=world.staff)


# --- scoring: drafts, locking, optimistic locking -----------------------------------------------


def test_draft_is_saved_field_by_field_and_bumps_the_version(world):
    sheet = world.sheet(world.member)
    first, second = world.criteria()[:2]
    saved = services.save_sheet(
        sheet=sheet, by=world.member, expected_version=1, judgements={first.pk: ("acquired", "Bien")}
    )
    assert saved.version == 2 and saved.status == SheetStatus.DRAFT
    saved = services.save_sheet(
        sheet=saved, by=world.member, expected_version=2, judgements={second.pk: ("not_observed", "")}
    )
    values = dict(CriterionJudgement.objects.filter(sheet=sheet).values_list("criterion_id", "judgement"))
    assert values == {first.pk: "acquired", second.pk: "not_observed"}
    assert saved.version == 3


def test_a_stale_save_is_refused_and_writes_nothing(world):
    criterion = world.criteria()[0]
    tab_one = world.sheet(world.member)
    tab_two = world.sheet(world.member)
    services.save_sheet(
        sheet=tab_one, by=world.member, expected_version=1, judgements={criterion.pk: ("acquired", "")}
    )
    with pytest.raises(services.StaleSheetError) as stale:
        services.save_sheet(
            sheet=tab_two,
            by=world.member,
            expected_version=1,
            judgements={criterion.pk: ("not_acquired", "")},
        )
    assert stale.value.current == 2
    assert CriterionJudgement.objects.get(sheet=tab_one, criterion=criterion).judgement == "acquired"
    assert ScoringSheet.objects.get(pk=tab_one.pk).version == 2


def test_submission_is_refused_while_incomplete_and_rolls_back(world):
    sheet = world.sheet(world.member)
    first = world.criteria()[0]
    with pytest.raises(BusinessRuleError, match="sans appréciation"):
        services.save_sheet(
            sheet=sheet,
            by=world.member,
            expected_version=1,
            judgements={first.pk: ("acquired", "")},
            conclusion="acquired",
            submit=True,
        )
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.DRAFT and sheet.version == 1
    assert not CriterionJudgement.objects.filter(sheet=sheet).exists()


def test_contradicting_conclusion_needs_a_justification(world):
    with pytest.raises(BusinessRuleError, match="justification"):
        judge_all(world, world.member, "not_acquired", conclusion="acquired")
    sheet = judge_all(
        world, world.member, "not_acquired", conclusion="acquired", justification="Compensé à l'oral"
    )
    assert sheet.status == SheetStatus.SUBMITTED


def test_submitted_sheet_is_locked(world):
    sheet = judge_all(world, world.member, "acquired", conclusion="acquired")
    with pytest.raises(BusinessRuleError, match="verrouillée"):
        services.save_sheet(
            sheet=sheet, by=world.member, expected_version=sheet.version, conclusion="not_acquired"
        )
    sheet.refresh_from_db()
    assert sheet.conclusion == "acquired"


def test_only_the_sheet_owner_saves_it(world):
    sheet = world.sheet(world.member)
    with pytest.raises(BusinessRuleError, match="pas attribuée"):
        services.save_sheet(sheet=sheet, by=world.president, expected_version=1, conclusion="acquired")


# --- reopening ----------------------------------------------------------------------------------


def test_staff_reopen_with_a_reason_which_is_audited_and_removes_the_proposal(world):
    judge_all(world, world.president, "acquired", conclusion="acquired")
    sheet = judge_all(world, world.member, "acquired", conclusion="acquired")
    assert CommissionProposal.objects.filter(candidate=world.candidate).count() == 1
    with pytest.raises(BusinessRuleError, match="motif"):
        services.reopen_sheet(sheet=sheet, by=world.staff, reason="  ")
    reopened = services.reopen_sheet(sheet=sheet, by=world.staff, reason="Critère 2 mal saisi")
    assert reopened.status == SheetStatus.DRAFT
    assert reopened.reopened_reason == "Critère 2 mal saisi" and reopened.reopened_by == world.staff
    assert reopened.version == sheet.version + 1
    event = AuditEvent.objects.get(action="evaluations.sheet_reopened")
    assert event.data["reason"] == "Critère 2 mal saisi" and event.actor == world.staff
    assert not CommissionProposal.objects.filter(candidate=world.candidate).exists()
    # the evaluator can correct it again
    services.save_sheet(
        sheet=reopened, by=world.member, expected_version=reopened.version, conclusion="acquired"
    )


@pytest.mark.parametrize("who", ["evaluator", "foreign_staff"])
def test_reopen_is_refused_to_evaluators_and_other_centres(world, who):
    sheet = judge_all(world, world.member, "acquired", conclusion="acquired")
    user = world.member if who == "evaluator" else StaffFactory(centres=[build_world(code="B").centre])
    with pytest.raises(BusinessRuleError):
        services.reopen_sheet(sheet=sheet, by=user, reason="Je veux modifier")
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.SUBMITTED


def test_reopening_a_candidate_awaiting_deliberation_brings_him_back_to_evaluation(world):
    for competency in world.competencies:
        judge_all(world, world.president, "acquired", conclusion="acquired", competency=competency)
        judge_all(world, world.member, "acquired", conclusion="acquired", competency=competency)
    world.candidate.refresh_from_db()
    assert world.candidate.status == CandidateStatus.AWAITING_DELIBERATION
    services.reopen_sheet(sheet=world.sheet(world.member), by=world.staff, reason="Erreur de saisie")
    world.candidate.refresh_from_db()
    assert world.candidate.status == CandidateStatus.IN_EVALUATION


# --- proposals ---------------------------------------------------------------------------------


def test_unanimous_members_give_an_automatic_proposal(world):
    judge_all(world, world.president, "acquired", conclusion="acquired")
    assert not CommissionProposal.objects.exists()  # one member still to submit
    judge_all(world, world.member, "acquired", conclusion="acquired")
    proposal = CommissionProposal.objects.get(candidate=world.candidate, competency=world.competencies[0])
    assert proposal.conclusion == "acquired" and proposal.is_unanimous and proposal.recorded_by is None
    assert proposal.has_divergence is False


def test_disagreeing_members_need_the_president_with_a_reason(world):
    competency = world.competencies[0]
    judge_all(world, world.president, "acquired", conclusion="acquired")
    judge_all(world, world.member, "not_acquired", conclusion="not_acquired")
    assert not CommissionProposal.objects.exists()
    with pytest.raises(BusinessRuleError, match="Seul le président"):
        services.record_proposal(
            candidate=world.candidate,
            competency=competency,
            conclusion="acquired",
            reason="x",
            by=world.member,
        )
    with pytest.raises(BusinessRuleError, match="motif"):
        services.record_proposal(
            candidate=world.candidate,
            competency=competency,
            conclusion="acquired",
            reason="",
            by=world.president,
        )
    proposal = services.record_proposal(
        candidate=world.candidate,
        competency=competency,
        conclusion="not_acquired",
        reason="Sécurité non respectée lors de l'observation",
        by=world.president,
    )
    assert proposal.has_divergence and not proposal.is_unanimous and proposal.recorded_by == world.president


def test_president_cannot_record_before_every_member_submitted(world):
    judge_all(world, world.president, "acquired", conclusion="acquired")
    with pytest.raises(BusinessRuleError, match="Tous les membres"):
        services.record_proposal(
            candidate=world.candidate,
            competency=world.competencies[0],
            conclusion="acquired",
            reason="Pressé",
            by=world.president,
        )


# --- history -----------------------------------------------------------------------------------


def test_every_change_is_kept_with_its_author(world):
    criterion = world.criteria()[0]
    sheet = world.sheet(world.member)
    services.save_sheet(
        sheet=sheet, by=world.member, expected_version=1, judgements={criterion.pk: ("acquired", "")}
    )
    services.save_sheet(
        sheet=sheet,
        by=world.member,
        expected_version=2,
        judgements={criterion.pk: ("not_acquired", "Bavures")},
    )
    judgement = CriterionJudgement.objects.get(sheet=sheet, criterion=criterion)
    records = list(judgement.history.order_by("history_id"))
    assert [r.judgement for r in records] == ["acquired", "not_acquired"]
    assert all(r.history_user == world.member for r in records)
    delta = records[1].diff_against(records[0])
    assert {change.field for change in delta.changes} == {"judgement", "comment"}
    assert sheet.history.count() >= 3  # created, two saves


# --- sessions ------------------------------------------------------------------------------------


def test_session_needs_a_place_unless_remote_and_a_president(world):
    with pytest.raises(BusinessRuleError, match="lieu"):
        services.create_session(
            centre=world.centre,
            commission=world.commission,
            date=timezone.localdate() + datetime.timedelta(days=7),
            place="",
            by=world.staff,
        )
    remote = services.create_session(
        centre=world.centre,
        commission=world.commission,
        date=timezone.localdate() + datetime.timedelta(days=7),
        is_remote=True,
        remote_details="https://visio.example/abc",
        by=world.staff,
    )
    assert remote.is_remote
    commission = services.create_commission(centre=world.centre, name="Sans président", by=world.staff)
    CommissionMemberFactory(commission=commission)
    with pytest.raises(BusinessRuleError, match="président"):
        services.create_session(
            centre=world.centre,
            commission=commission,
            date=timezone.localdate() + datetime.timedelta(days=7),
            place="Nancy",
            by=world.staff,
        )


def test_members_are_evaluators_of_the_centre_and_one_president(world):
    outsider = EvaluatorFactory()
    with pytest.raises(BusinessRuleError, match="rattaché"):
        services.add_member(
            commission=world.commission, user=outsider, qualification="Soudure", by=world.staff
        )
    colleague = EvaluatorFactory(centres=[world.centre])
    member = services.add_member(
        commission=world.commission,
        user=colleague,
        qualification="Soudure",
        is_president=True,
        by=world.staff,
    )
    assert list(world.commission.members.filter(is_president=True)) == [member]
    with pytest.raises(BusinessRuleError, match="affecté"):
        services.remove_member(member=world.commission.members.get(user=world.member), by=world.staff)


def test_session_update_resends_convocations(world, django_capture_on_commit_callbacks):
    count = Notification.objects.filter(kind="evaluations.convocation").count()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_session(
            session=world.session,
            date=timezone.localdate() + datetime.timedelta(days=1),
            place="Salle 4",
            by=world.staff,
        )
    assert Notification.objects.filter(kind="evaluations.convocation").count() == count + 1


def test_candidates_visible_to_delegates_evaluators_to_the_commission_scope(world):
    from candidates.selectors import candidates_visible_to

    other = build_world(code="B")
    assert list(candidates_visible_to(world.member)) == [world.candidate]
    assert list(candidates_visible_to(other.member)) == [other.candidate]
    services.declare_conflict(user=world.member, candidate=world.candidate, reason="Parent", by=world.staff)
    assert not candidates_visible_to(world.member).exists()
    # the president still sees the candidate of his commission
    assert list(candidates_visible_to(world.president)) == [world.candidate]
