"""Dates that cannot contradict each other (issue 16): no attendance, decision nor closing before the
deliberation's day; no candidate put before a jury before his evaluations are over; a deliberation
held earlier than planned, or entered after the fact, only through the audited « saisie a posteriori »."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates.models import CandidateStatus
from core.exceptions import BusinessRuleError
from core.models import AuditEvent
from deliberations import services
from deliberations.models import Attendance, CandidateOutcome, DeliberationSession, SessionCandidate
from tests.candidates.factories import CandidateFactory
from tests.core.factories import CentreFactory, StaffFactory
from tests.deliberations.factories import (
    DeliberationSessionFactory,
    JuryUserFactory,
    evaluated_candidate,
    paritary_jury,
    ready_session,
)
from tests.evaluations.factories import ConvocationFactory, EvaluationSessionFactory

pytestmark = pytest.mark.django_db


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def upcoming():
    """A session in 6 days with one complete candidate and every member present."""
    return ready_session(n=1, date=days(6))


def _candidate(session):
    return session.entries.select_related("candidate").get().candidate


NOT_REACHED = "s'enregistrent à partir de ce jour"


def test_no_decision_before_the_deliberation_day(upcoming):
    with pytest.raises(BusinessRuleError) as refusal:
        services.record_decisions(actor=None, session=upcoming, candidate=_candidate(upcoming), choices={})
    assert refusal.value.code == "before_deliberation"
    assert "La délibération est fixée au" in refusal.value.message
    assert NOT_REACHED in refusal.value.message and "« saisie a posteriori »" in refusal.value.message
    assert not CandidateOutcome.objects.filter(session=upcoming).exists()
    upcoming.refresh_from_db()
    assert upcoming.status == "planned"


def test_no_attendance_before_the_deliberation_day(upcoming):
    Attendance.objects.filter(session=upcoming).update(present=False)
    members = [m.pk for m in upcoming.jury.members.all()]
    with pytest.raises(BusinessRuleError, match=NOT_REACHED):
        services.record_attendance(actor=None, session=upcoming, present_member_ids=members)
    assert not Attendance.objects.filter(session=upcoming, present=True).exists()


def test_no_closing_before_the_deliberation_day(upcoming):
    with pytest.raises(BusinessRuleError, match=NOT_REACHED):
        services.close_session(actor=None, session=upcoming)
    upcoming.refresh_from_db()
    assert upcoming.status == "planned" and upcoming.closed_at is None


def test_on_the_deliberation_day_the_jury_decides_and_closes(django_capture_on_commit_callbacks):
    session = ready_session(n=1, date=days(0))
    services.record_decisions(actor=None, session=session, candidate=_candidate(session), choices={})
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=session)
    session.refresh_from_db()
    assert session.status == "closed"


@pytest.mark.parametrize(
    "status", [CandidateStatus.REGISTERED, CandidateStatus.DOSSIER_VALIDATED, CandidateStatus.IN_EVALUATION]
)
def test_a_candidate_still_in_evaluation_is_not_put_before_the_jury(status):
    session = DeliberationSessionFactory()
    candidate = CandidateFactory(centre=session.centre, certification=session.certification, status=status)
    with pytest.raises(BusinessRuleError) as refusal:
        services.add_candidates(actor=None, session=session, candidates=[candidate])
    assert refusal.value.code == "evaluations_not_over"
    assert f"Les évaluations du candidat {candidate.reference} ne sont pas terminées" in refusal.value.message
    assert not SessionCandidate.objects.filter(session=session).exists()


def test_a_candidate_evaluated_after_the_deliberation_is_not_put_before_it():
    session = DeliberationSessionFactory(date=days(3))
    candidate = evaluated_candidate(session.centre, session.certification)
    evaluation = EvaluationSessionFactory(centre=session.centre, date=days(10))
    ConvocationFactory(session=evaluation, candidate=candidate)
    with pytest.raises(BusinessRuleError) as refusal:
        services.add_candidates(actor=None, session=session, candidates=[candidate])
    assert f"Le candidat {candidate.reference} est évalué le" in refusal.value.message
    assert "après la délibération du" in refusal.value.message
    assert not SessionCandidate.objects.filter(session=session).exists()


def test_a_candidate_whose_evaluations_are_over_is_added():
    session = DeliberationSessionFactory(date=days(3))
    candidate = evaluated_candidate(session.centre, session.certification)
    ConvocationFactory(
        session=EvaluationSessionFactory(centre=session.centre, date=days(-4)), candidate=candidate
    )
    added = services.add_candidates(actor=None, session=session, candidates=[candidate])
    assert [entry.candidate_id for entry in added] == [candidate.pk]


def test_a_past_deliberation_needs_the_late_entry_reason():
    centre = CentreFactory()
    staff = StaffFactory(centres=[centre])
    session = DeliberationSessionFactory(centre=centre)
    arguments = {
        "actor": staff,
        "centre": centre,
        "certification": session.certification,
        "jury": paritary_jury(centre),
        "date": days(-2),
        "place": "Nancy",
    }
    with pytest.raises(BusinessRuleError, match="« saisie a posteriori ». Indiquez-en le motif."):
        services.create_session(**arguments)
    created = services.create_session(**arguments, late_entry_reason="Jury tenu avant le déploiement.")
    assert created.late_entry_reason == "Jury tenu avant le déploiement." and created.late_entry_by == staff
    assert AuditEvent.objects.filter(
        action="deliberations.session_late_entry", target_id=str(created.pk)
    ).exists()


def test_late_entry_records_the_real_date_and_opens_the_decisions(upcoming):
    staff = StaffFactory(centres=[upcoming.centre])
    services.record_late_entry(
        actor=staff, session=upcoming, date=days(-1), reason="  Le jury s'est réuni un jour plus tôt.  "
    )
    upcoming.refresh_from_db()
    assert upcoming.date == days(-1)
    assert upcoming.late_entry_reason == "Le jury s'est réuni un jour plus tôt."
    assert upcoming.late_entry_by == staff and upcoming.late_entry_at is not None
    event = AuditEvent.objects.get(action="deliberations.session_late_entry", target_id=str(upcoming.pk))
    assert event.actor == staff and event.data["date"] == days(-1).isoformat()
    services.record_decisions(actor=staff, session=upcoming, candidate=_candidate(upcoming), choices={})


@pytest.mark.parametrize(
    ("date", "reason", "message"),
    [
        (6, "Motif", "est à venir"),  # a future day is not « a posteriori »
        (-1, "   ", "Indiquez le motif de la saisie a posteriori."),
        (None, "Motif", "Indiquez la date à laquelle le jury s'est réuni."),
    ],
)
def test_late_entry_refusals(upcoming, date, reason, message):
    staff = StaffFactory(centres=[upcoming.centre])
    with pytest.raises(BusinessRuleError, match=message):
        services.record_late_entry(
            actor=staff, session=upcoming, date=None if date is None else days(date), reason=reason
        )
    upcoming.refresh_from_db()
    assert upcoming.date == days(6) and upcoming.late_entry_at is None


def test_late_entry_refused_before_a_candidates_evaluation(upcoming):
    candidate = _candidate(upcoming)
    ConvocationFactory(
        session=EvaluationSessionFactory(centre=upcoming.centre, date=days(-1)), candidate=candidate
    )
    with pytest.raises(BusinessRuleError, match="après la délibération du"):
        services.record_late_entry(
            actor=StaffFactory(centres=[upcoming.centre]), session=upcoming, date=days(-3), reason="Plus tôt"
        )
    upcoming.refresh_from_db()
    assert upcoming.date == days(6)


def test_late_entry_is_for_the_centres_staff_only(upcoming):
    with pytest.raises(BusinessRuleError, match="Seul le personnel du centre"):
        services.record_late_entry(
            actor=StaffFactory(centres=[CentreFactory()]), session=upcoming, date=days(-1), reason="Motif"
        )


# --- pages ----------------------------------------------------------------------------------------


def test_board_before_the_day_says_why_and_offers_the_late_entry_only(client, upcoming):
    staff = StaffFactory(centres=[upcoming.centre])
    client.force_login(staff)
    url = reverse("deliberations:session_detail", args=[upcoming.pk])
    page = client.get(url).content.decode()
    assert 'id="deliberation-not-reached"' in page and "La délibération est fixée au" in page
    assert reverse("deliberations:session_late_entry", args=[upcoming.pk]) in page
    assert reverse("deliberations:session_attendance", args=[upcoming.pk]) not in page
    assert reverse("deliberations:session_close", args=[upcoming.pk]) not in page
    assert reverse("deliberations:candidate_decide", args=[upcoming.pk, _candidate(upcoming).pk]) not in page
    response = client.post(reverse("deliberations:session_close", args=[upcoming.pk]), follow=True)
    assert "La délibération est fixée au" in response.content.decode()
    upcoming.refresh_from_db()
    assert upcoming.status == "planned"
    response = client.post(
        reverse("deliberations:session_late_entry", args=[upcoming.pk]),
        {"date": days(0).isoformat(), "reason": "Le jury a été avancé à aujourd'hui."},
        follow=True,
    )
    page = response.content.decode()
    assert "Saisie a posteriori enregistrée" in page and 'id="late-entry"' in page
    assert 'id="deliberation-not-reached"' not in page
    assert reverse("deliberations:session_attendance", args=[upcoming.pk]) in page


def test_decision_page_before_the_day_keeps_the_jurys_input(client):
    juror = JuryUserFactory()
    session = ready_session(n=1, date=days(2), jury_user=juror)
    juror.centres.add(session.centre)
    client.force_login(juror)
    candidate = _candidate(session)
    url = reverse("deliberations:candidate_decide", args=[session.pk, candidate.pk])
    page = client.get(url).content.decode()
    assert 'id="deliberation-not-reached"' in page
    response = client.post(url, {})
    assert response.status_code == 200
    assert "La délibération est fixée au" in response.content.decode()
    assert not CandidateOutcome.objects.filter(session=session).exists()


def test_add_candidates_list_leaves_out_those_evaluated_after_the_deliberation(client):
    session = DeliberationSessionFactory(date=days(3))
    ready = evaluated_candidate(session.centre, session.certification)
    later = evaluated_candidate(session.centre, session.certification)
    ConvocationFactory(session=EvaluationSessionFactory(centre=session.centre, date=days(9)), candidate=later)
    client.force_login(StaffFactory(centres=[session.centre]))
    response = client.get(reverse("deliberations:session_detail", args=[session.pk]))
    choices = set(response.context["add_form"].fields["candidates"].queryset)
    assert ready in choices and later not in choices


def test_sessions_in_the_future_stay_plannable():
    centre = CentreFactory()
    session = services.create_session(
        actor=StaffFactory(centres=[centre]),
        centre=centre,
        certification=DeliberationSessionFactory(centre=centre).certification,
        jury=paritary_jury(centre),
        date=days(30),
        place="Nancy",
    )
    assert DeliberationSession.objects.get(pk=session.pk).late_entry_at is None


def test_session_forms_show_no_dash_placeholder(client):
    centre = CentreFactory()
    client.force_login(StaffFactory(centres=[centre]))
    for url in (reverse("deliberations:session_create"), reverse("evaluations:session_create")):
        page = client.get(url).content.decode()
        assert "---------" not in page and "Choisissez…" in page, url


def test_deliberation_list_is_sorted_by_date(client):
    centre = CentreFactory()
    dates = [days(5), days(-40), days(20), days(-3)]
    for date in dates:
        DeliberationSessionFactory(centre=centre, date=date)
    client.force_login(StaffFactory(centres=[centre]))
    sessions = list(client.get(reverse("deliberations:session_list")).context["sessions"])
    assert [s.date for s in sessions] == sorted(dates, reverse=True)
