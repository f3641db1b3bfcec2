import datetime

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from candidates.models import CandidateStatus
from core.exceptions import BusinessRuleError
from core.models import AuditEvent, Notification
from deliberations import capitalisation, selectors, services
from deliberations.models import (
    Attendance,
    CandidateOutcome,
    CapitalisedBlock,
    CapitalisedCompetency,
    College,
    CompetencyDecision,
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
    SessionStatus,
)
from evaluations.models import CommissionProposal, CompanyOpinion, ScoringSheet
from tests.candidates.factories import CandidateFactory
from tests.core.factories import CentreFactory, StaffFactory
from tests.deliberations.factories import (
    DeliberationSessionFactory,
    JuryFactory,
    JuryUserFactory,
    evaluated_candidate,
    paritary_jury,
    ready_session,
)
from tests.evaluations.factories import ConflictOfInterestFactory, EvaluatorFactory, ScoringSheetFactory

pytestmark = pytest.mark.django_db


def comp(session, number):
    return session.certification.competencies.get(number=number)


def entry_candidate(session, index=0):
    return session.entries.order_by("candidate__reference")[index].candidate


# --- Jury composition ---------------------------------------------------------------------------
def test_jury_members_by_college_rules():
    staff = StaffFactory()
    jury = JuryFactory()
    services.add_jury_member(
        actor=staff, jury=jury, full_name="A B", college=College.EMPLOYERS, is_president=True
    )
    with pytest.raises(BusinessRuleError, match="président"):
        services.add_jury_member(
            actor=staff, jury=jury, full_name="C D", college=College.EMPLOYERS, is_president=True
        )
    with pytest.raises(BusinessRuleError, match="collège employeurs"):
        services.add_jury_member(
            actor=staff, jury=jury, full_name="E F", college=College.EMPLOYEES, union="CGT", is_president=True
        )
    with pytest.raises(BusinessRuleError, match="syndicale"):
        services.add_jury_member(actor=staff, jury=jury, full_name="G H", college=College.EMPLOYEES)
    services.add_jury_member(actor=staff, jury=jury, full_name="I J", college=College.EMPLOYEES, union="CGT")
    with pytest.raises(BusinessRuleError, match="un membre par syndicat"):
        services.add_jury_member(
            actor=staff, jury=jury, full_name="K L", college=College.EMPLOYEES, union="cgt"
        )
    assert selectors.composition_problems(list(jury.members.all())) == []
    services.add_jury_member(actor=staff, jury=jury, full_name="M N", college=College.EMPLOYERS)
    assert "paritaire" in selectors.composition_problems(list(jury.members.all()))[0]


# --- Convocations -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("days_before_unions", "days_before_members", "expected"),
    [
        (20, 10, []),
        (15, 8, []),
        (14, 10, ["syndicales"]),
        (20, 7, ["membres salariés"]),
        (3, 2, ["syndicales", "membres salariés"]),
    ],
)
def test_convocation_deadlines(days_before_unions, days_before_members, expected):
    session = DeliberationSessionFactory(date=datetime.date(2026, 9, 30))
    warnings = services.record_convocations(
        actor=None,
        session=session,
        unions_asked_on=session.date - datetime.timedelta(days=days_before_unions),
        members_notified_on=session.date - datetime.timedelta(days=days_before_members),
    )
    assert len(warnings) == len(expected)
    for word, warning in zip(expected, warnings, strict=True):
        assert word in warning and "tardivement" in warning
    # employee members with an email are convened, once
    employees = session.jury.members.filter(college=College.EMPLOYEES).count()
    assert Notification.objects.filter(kind="deliberations.convocation").count() == employees
    services.record_convocations(actor=None, session=session, members_notified_on=session.members_notified_on)
    assert Notification.objects.filter(kind="deliberations.convocation").count() == employees


def test_missing_convocation_warns_once_deadline_passed():
    session = DeliberationSessionFactory(
        date=timezone.localdate() + datetime.timedelta(days=5), unions_asked_on=None, members_notified_on=None
    )
    warnings = selectors.convocation_warnings(session)
    assert any("n'ont pas été sollicitées" in w for w in warnings)
    assert any("n'ont pas été convoqués" in w for w in warnings)
    far = DeliberationSessionFactory(
        date=timezone.localdate() + datetime.timedelta(days=60),
        unions_asked_on=None,
        members_notified_on=None,
    )
    assert selectors.convocation_warnings(far) == []


# --- Attendance: parity, quorum, president -----------------------------------------------------
@pytest.mark.parametrize(
    ("present", "quorum", "fragments"),
    [
        ({"E1", "S1"}, 2, []),
        ({"E1"}, 2, ["Quorum", "Parité"]),
        ({"E1", "E2", "S1"}, 2, ["Parité"]),
        ({"E2", "S1"}, 2, ["président"]),
        ({"E1", "S1"}, 4, ["Quorum"]),
        ({"E1", "E2", "S1", "S2"}, 4, []),
    ],
)
def test_attendance_problems(settings, present, quorum, fragments):
    settings.CQPM = {**settings.CQPM, "JURY_QUORUM_MIN_PRESENT": quorum}
    centre = CentreFactory()
    jury = paritary_jury(centre, pairs=2)
    session = DeliberationSessionFactory(centre=centre, jury=jury)
    label = {}
    for member in jury.members.all():
        prefix = "E" if member.college == College.EMPLOYERS else "S"
        label[member.pk] = prefix + member.full_name[len("Employeur") if prefix == "E" else len("Salarié")]
    ids = [pk for pk, name in label.items() if name in present]
    problems = services.record_attendance(actor=None, session=session, present_member_ids=ids)
    assert Attendance.objects.filter(session=session).count() == 4
    assert len(problems) == len(fragments), problems
    for fragment, problem in zip(fragments, problems, strict=True):
        assert fragment in problem


def test_session_cannot_close_when_attendance_breaks_quorum_and_says_why():
    session = ready_session(n=1, attendance=False)
    candidate = entry_candidate(session)
    services.record_decisions(actor=None, session=session, candidate=candidate, choices={})
    with pytest.raises(BusinessRuleError, match="présences"):
        services.close_session(actor=None, session=session)
    president = session.jury.members.get(is_president=True)
    services.record_attendance(actor=None, session=session, present_member_ids=[president.pk])
    with pytest.raises(BusinessRuleError) as error:
        services.close_session(actor=None, session=session)
    assert "Quorum" in error.value.message and "Parité" in error.value.message
    session.refresh_from_db()
    assert session.status != SessionStatus.CLOSED


# --- Pre-deliberation checks --------------------------------------------------------------------
def test_checks_list_blocking_and_non_blocking_anomalies():
    centre = CentreFactory()
    session = ready_session(centre=centre, n=0)
    cert = session.certification
    complete = evaluated_candidate(centre, cert)
    no_proposal = evaluated_candidate(centre, cert, conclusions={2: None})
    no_opinion = evaluated_candidate(centre, cert, opinions={3: None})
    vae = evaluated_candidate(centre, cert, vae=True)
    not_validated = evaluated_candidate(centre, cert)
    not_validated.dossier.validated_at = None
    not_validated.dossier.save()
    conflicted = evaluated_candidate(centre, cert)
    evaluator = EvaluatorFactory(centres=[centre])
    ScoringSheetFactory(
        candidate=conflicted, competency=comp(session, 1), evaluator=evaluator, submitted=True
    )
    ConflictOfInterestFactory(user=evaluator, company=conflicted.company, candidate=None)
    disagree = evaluated_candidate(centre, cert, opinions={1: "unfavourable"})
    needs_report = evaluated_candidate(centre, cert)
    needs_report.dossier.items.update(modalities=["project_presentation"])
    services.add_candidates(
        actor=None,
        session=session,
        candidates=[
            complete,
            no_proposal,
            no_opinion,
            vae,
            not_validated,
            conflicted,
            disagree,
            needs_report,
        ],
    )
    rows = {row.candidate.pk: row for row in selectors.board(session)}

    def codes(candidate, blocking):
        return {a.code for a in rows[candidate.pk].anomalies if a.blocking is blocking}

    assert codes(complete, True) == set() and rows[complete.pk].is_complete
    assert codes(no_proposal, True) == {"missing_proposal"}
    assert codes(no_opinion, True) == {"missing_opinion"}
    assert codes(vae, True) == set()  # VAE: no company opinion expected
    assert codes(not_validated, True) == {"dossier_not_validated"}
    assert codes(conflicted, True) == {"evaluator_conflict"}
    assert codes(disagree, True) == set() and codes(disagree, False) == {"needs_review"}
    assert codes(needs_report, True) == {"missing_report"}
    with pytest.raises(BusinessRuleError, match="incomplet"):
        services.record_decisions(actor=None, session=session, candidate=no_opinion, choices={})
    assert not CandidateOutcome.objects.filter(candidate=no_opinion).exists()


# --- Decisions -----------------------------------------------------------------------------------
def test_decisions_start_from_the_proposal_and_overrides_need_a_motivation():
    session = ready_session(n=1)
    candidate = entry_candidate(session)
    c3 = comp(session, 3)
    with pytest.raises(BusinessRuleError, match="motivation"):
        services.record_decisions(
            actor=None, session=session, candidate=candidate, choices={c3.pk: ("not_acquired", "")}
        )
    outcome = services.record_decisions(
        actor=None,
        session=session,
        candidate=candidate,
        choices={c3.pk: ("not_acquired", "Le résultat attendu n'est pas atteint.")},
    )
    assert outcome.result == "partial"
    assert list(outcome.blocks_acquired.values_list("number", flat=True)) == [1]
    decision = CompetencyDecision.objects.get(candidate=candidate, competency=c3)
    assert decision.proposed == "acquired" and decision.decided == "not_acquired" and decision.is_override
    assert decision.explanation["jury_rule"] == "jury_override"
    assert (
        decision.explanation["commission"] == "acquired"
        and decision.explanation["company_opinion"] == "favourable"
    )
    assert outcome.explanation["overridden"] == [3]
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN
    event = AuditEvent.objects.get(action="deliberations.decisions_recorded")
    assert candidate.birth_name not in event.message + str(event.data)


def test_recording_decisions_locks_scores_proposals_and_opinions():
    session = ready_session(n=1)
    candidate = entry_candidate(session)
    proposal = CommissionProposal.objects.filter(candidate=candidate).first()
    proposal.reason = "Avant délibération : modifiable."
    proposal.save()
    services.record_decisions(actor=None, session=session, candidate=candidate, choices={})
    assert selectors.is_candidate_locked(candidate.pk)
    proposal.reason = "Après délibération"
    opinion = CompanyOpinion.objects.filter(candidate=candidate).first()
    sheet = ScoringSheet(candidate=candidate, competency=comp(session, 1), evaluator=EvaluatorFactory())
    for attempt in (proposal.save, opinion.delete, sheet.save):
        with pytest.raises(BusinessRuleError, match="verrouillés"), transaction.atomic():
            attempt()
    assert CommissionProposal.objects.get(pk=proposal.pk).reason == "Avant délibération : modifiable."


# --- Closing: capitalisation, documents, status --------------------------------------------------
def test_close_records_capitalisation_produces_documents_and_marks_candidates(
    settings, django_capture_on_commit_callbacks
):
    session = ready_session(n=2)
    full, partial = entry_candidate(session, 0), entry_candidate(session, 1)
    services.record_decisions(actor=None, session=session, candidate=full, choices={})
    c2 = comp(session, 2)
    services.record_decisions(
        actor=None,
        session=session,
        candidate=partial,
        choices={c2.pk: ("not_acquired", "Preuves insuffisantes.")},
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED and session.closed_at is not None
    months = settings.CQPM["COMPETENCY_VALIDITY_MONTHS"]
    assert months == 24
    expected_until = session.date.replace(year=session.date.year + 2)
    assert set(
        CapitalisedCompetency.objects.filter(candidate=partial).values_list(
            "competency__number", "valid_until"
        )
    ) == {
        (1, expected_until),
        (3, expected_until),
    }
    assert set(
        CapitalisedBlock.objects.filter(candidate=partial).values_list("block__number", "valid_until")
    ) == {(2, session.date.replace(year=session.date.year + 5))}
    for candidate in (full, partial):
        candidate.refresh_from_db()
        assert candidate.status == CandidateStatus.DELIBERATED
    # eager Celery: every document is produced on commit
    docs = GeneratedDocument.objects.filter(session=session)
    kinds = sorted((d.kind, d.candidate_id) for d in docs)
    assert kinds == sorted(
        [
            ("pv", None),
            ("attendance", None),
            ("letter", full.pk),
            ("certificate", full.pk),
            ("letter", partial.pk),
            ("block_attestation", partial.pk),
        ]
    )
    assert all(
        d.status == DocumentStatus.DONE and d.is_current and default_storage.exists(d.file.name) for d in docs
    )
    with pytest.raises(BusinessRuleError, match="close"):
        services.record_decisions(actor=None, session=session, candidate=full, choices={})


def test_close_refuses_undecided_candidates():
    session = ready_session(n=2)
    services.record_decisions(actor=None, session=session, candidate=entry_candidate(session, 0), choices={})
    with pytest.raises(BusinessRuleError, match=entry_candidate(session, 1).reference):
        services.close_session(actor=None, session=session)


def test_new_attempt_starts_with_capitalised_competencies_and_awards_use_them(
    django_capture_on_commit_callbacks,
):
    # 90 days ago: the second attempt's deliberation is today (no decision before its day)
    session = ready_session(n=1, date=timezone.localdate() - datetime.timedelta(days=90))
    first = entry_candidate(session)
    c3 = comp(session, 3)
    services.record_decisions(
        actor=None, session=session, candidate=first, choices={c3.pk: ("not_acquired", "Non démontré.")}
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=session)

    second = CandidateFactory(
        centre=first.centre,
        certification=first.certification,
        previous_attempt=first,
        status=CandidateStatus.AWAITING_DELIBERATION,
        birth_name=first.birth_name,
    )
    capitalised = selectors.capitalised_for(second, on=session.date)
    assert set(capitalised.competencies) == {comp(session, 1).pk, comp(session, 2).pk}
    assert set(capitalised.blocks) == {session.certification.blocks.get(number=1).pk}
    # at registration, the candidates app marks the dossier: competencies 1 and 2 are already acquired
    assert capitalisation.apply_capitalisation(candidate=second) == 2
    assert capitalisation.apply_capitalisation(candidate=second) == 0  # idempotent
    items = {i.competency.number: i for i in second.dossier.items.select_related("competency")}
    assert items[1].already_acquired and items[2].already_acquired and not items[3].already_acquired
    assert items[1].acquired_until == session.date.replace(year=session.date.year + 5)  # through bloc 1
    assert items[1].acquired_through_block == 1 and items[3].acquired_through_block is None

    # second session: only competency 3 is evaluated; the others are acquired through capitalisation
    later = DeliberationSessionFactory(
        centre=session.centre,
        certification=session.certification,
        jury=session.jury,
        date=session.date + datetime.timedelta(days=90),
    )
    for member in later.jury.members.all():
        Attendance.objects.create(session=later, member=member, present=True)
    CommissionProposal.objects.create(candidate=second, competency=c3, conclusion="acquired")
    CompanyOpinion.objects.create(
        candidate=second, competency=c3, tutor=second.tutor, opinion="favourable", signed_at=timezone.now()
    )
    services.add_candidates(actor=None, session=later, candidates=[second])
    row = selectors.board_row(later, second.pk)
    assert row.is_complete, row.anomalies
    # held by both records: the bloc (5 years) holds it longer than its own 24 months
    assert row.proposals[comp(session, 1).pk].rule == "capitalised_block"
    assert row.proposals[comp(session, 1).pk].explanation["capitalised_block"] == 1
    assert row.proposals[c3.pk].rule == "agreement_acquired"
    outcome = services.record_decisions(actor=None, session=later, candidate=second, choices={})
    assert outcome.result == "certified"
    assert outcome.explanation["capitalised_before"] == [1, 2]


def test_amending_after_closing_needs_staff_and_motivation_and_keeps_the_old_pv(
    django_capture_on_commit_callbacks,
):
    session = ready_session(n=1)
    candidate = entry_candidate(session)
    services.record_decisions(actor=None, session=session, candidate=candidate, choices={})
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=session)
    first_pv = GeneratedDocument.objects.get(session=session, kind=DocumentKind.PV)
    certificate = GeneratedDocument.objects.get(session=session, kind=DocumentKind.CERTIFICATE)
    c1 = comp(session, 1)
    staff = StaffFactory(centres=[session.centre])
    jury_user = JuryUserFactory()
    with pytest.raises(BusinessRuleError, match="personnel"):
        services.amend_outcome(
            actor=jury_user, session=session, candidate=candidate, choices={}, motivation="Erreur matérielle."
        )
    with pytest.raises(BusinessRuleError, match="motivée"):
        services.amend_outcome(actor=staff, session=session, candidate=candidate, choices={}, motivation=" ")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.amend_outcome(
            actor=staff,
            session=session,
            candidate=candidate,
            choices={c1.pk: ("not_acquired", "Fraude constatée après la séance.")},
            motivation="Erreur matérielle signalée par le centre.",
        )
    assert outcome.result == "partial" and outcome.amendments.count() == 1
    assert outcome.amendments.get().previous_result == "certified"
    pvs = GeneratedDocument.objects.filter(session=session, kind=DocumentKind.PV).order_by("version")
    assert [(p.version, p.is_current) for p in pvs] == [(1, False), (2, True)]
    assert default_storage.exists(first_pv.file.name)  # the old PV is kept
    certificate.refresh_from_db()
    assert not certificate.is_current  # no longer certified: the parchemin is withdrawn
    assert not CapitalisedCompetency.objects.filter(candidate=candidate, competency=c1).exists()


# --- Documents: idempotent requests, broker down --------------------------------------------------
def test_request_document_is_idempotent_while_pending(django_capture_on_commit_callbacks):
    session = ready_session(n=1)
    with django_capture_on_commit_callbacks(execute=False):
        first = services.request_document(actor=None, session=session, kind=DocumentKind.ATTENDANCE)
        second = services.request_document(actor=None, session=session, kind=DocumentKind.ATTENDANCE)
    assert first.pk == second.pk
    assert GeneratedDocument.objects.filter(session=session).count() == 1


def test_pv_only_after_closing():
    session = ready_session(n=1)
    with pytest.raises(BusinessRuleError, match="clôture"):
        services.request_document(actor=None, session=session, kind=DocumentKind.PV)


def test_broker_down_marks_the_document_failed_with_a_message(
    monkeypatch, django_capture_on_commit_callbacks
):
    session = ready_session(n=1)
    monkeypatch.setattr(services, "safe_delay", lambda task, *args: None)
    with django_capture_on_commit_callbacks(execute=True):
        document = services.request_document(actor=None, session=session, kind=DocumentKind.ATTENDANCE)
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED
    assert "indisponible" in document.error
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_document(actor=None, document=document)
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE and document.is_current
