import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates.models import CandidateStatus
from core.dates import today  # the Paris date the code compares with, read when each test runs
from core.models import Role
from deliberations.models import SessionCandidate, SessionStatus
from reporting.dashboards import dashboard_for
from tests.candidates.factories import CandidateDocumentFactory, CandidateFactory, TutorFactory
from tests.core.factories import CentreFactory, StaffFactory, UserFactory
from tests.deliberations.factories import DeliberationSessionFactory, JuryUserFactory, paritary_jury
from tests.evaluations.factories import (
    CommissionFactory,
    CommissionMemberFactory,
    CompanyOpinionFactory,
    ConvocationFactory,
    EvaluationSessionFactory,
    ScoringSheetFactory,
)
from tests.referential.factories import CertificationFactory

DAY = datetime.timedelta(days=1)


def widget(context, key):
    return next(w for w in context["widgets"] if w.key == key)


def with_report_due(candidate, due, modalities=("project_presentation",)):
    candidate.dossier.report_due_date = due
    candidate.dossier.save()
    candidate.dossier.items.update(modalities=list(modalities))
    return candidate


@pytest.fixture
def cqpm(db):
    return CertificationFactory()


@pytest.fixture
def staff_data(cqpm):
    a, b = CentreFactory(code="A"), CentreFactory(code="B")
    counts = {
        CandidateStatus.REGISTERED: 2,
        CandidateStatus.DOSSIER_VALIDATED: 1,
        CandidateStatus.IN_EVALUATION: 3,
        CandidateStatus.AWAITING_DELIBERATION: 1,
        CandidateStatus.DELIBERATED: 1,
        CandidateStatus.WITHDRAWN: 1,
    }
    made = {
        status: [CandidateFactory(centre=a, certification=cqpm, status=status) for _ in range(n)]
        for status, n in counts.items()
    }
    for status in (CandidateStatus.REGISTERED, CandidateStatus.IN_EVALUATION):  # other centre: never counted
        CandidateFactory(centre=b, certification=cqpm, status=status)
    anonymised = CandidateFactory(centre=a, certification=cqpm, status=CandidateStatus.WITHDRAWN)
    anonymised.anonymised_at = timezone.now()
    anonymised.save()

    # Reports: two late, one uploaded, one not yet due, one without report modality.
    in_eval = made[CandidateStatus.IN_EVALUATION]
    with_report_due(in_eval[0], today() - 5 * DAY)
    with_report_due(in_eval[1], today() - 2 * DAY)
    with_report_due(in_eval[2], today() - 9 * DAY)
    CandidateDocumentFactory(candidate=in_eval[2])
    with_report_due(made[CandidateStatus.DOSSIER_VALIDATED][0], today() + 3 * DAY)
    other = CandidateFactory(centre=a, certification=cqpm, status=CandidateStatus.IN_EVALUATION)
    with_report_due(other, today() - 3 * DAY, modalities=("workplace_observation",))
    with_report_due(
        CandidateFactory(centre=b, certification=cqpm, status=CandidateStatus.IN_EVALUATION),
        today() - 3 * DAY,
    )

    # Evaluation sessions: two upcoming in A (one today), one past, one upcoming in B.
    soon = EvaluationSessionFactory(commission=CommissionFactory(centre=a), date=today())
    later = EvaluationSessionFactory(commission=CommissionFactory(centre=a), date=today() + 20 * DAY)
    EvaluationSessionFactory(commission=CommissionFactory(centre=a), date=today() - DAY)
    EvaluationSessionFactory(commission=CommissionFactory(centre=b), date=today() + DAY)
    ConvocationFactory(session=later, candidate=in_eval[0])
    ConvocationFactory(session=later, candidate=in_eval[1])

    # Company opinions: two candidates late (one with 2 opinions), one signed, one not yet due.
    comps = list(cqpm.competencies.order_by("number"))
    CompanyOpinionFactory(candidate=in_eval[0], competency=comps[0], signed=False, due_date=today() - 4 * DAY)
    CompanyOpinionFactory(candidate=in_eval[0], competency=comps[1], signed=False, due_date=today() - DAY)
    CompanyOpinionFactory(candidate=in_eval[0], competency=comps[2], signed=False, due_date=today() + DAY)
    CompanyOpinionFactory(
        candidate=in_eval[1], competency=comps[0], signed=False, due_date=today() - 10 * DAY
    )
    CompanyOpinionFactory(candidate=in_eval[2], competency=comps[0], signed=True, due_date=today() - 10 * DAY)
    CompanyOpinionFactory(candidate=other, competency=comps[0], signed=False, due_date=today() + 5 * DAY)

    # Deliberation sessions: one ready, one with a candidate still in evaluation, one closed, one empty.
    awaiting = [made[CandidateStatus.AWAITING_DELIBERATION][0]] + [
        CandidateFactory(centre=a, certification=cqpm, status=CandidateStatus.AWAITING_DELIBERATION)
    ]
    ready = DeliberationSessionFactory(centre=a, certification=cqpm, date=today() + 15 * DAY)
    for candidate in awaiting:
        SessionCandidate.objects.create(session=ready, candidate=candidate)
    not_ready = DeliberationSessionFactory(centre=a, certification=cqpm, date=today() + 30 * DAY)
    SessionCandidate.objects.create(
        session=not_ready,
        candidate=CandidateFactory(
            centre=a, certification=cqpm, status=CandidateStatus.AWAITING_DELIBERATION
        ),
    )
    SessionCandidate.objects.create(session=not_ready, candidate=in_eval[2])
    closed = DeliberationSessionFactory(
        centre=a,
        certification=cqpm,
        date=today() - 30 * DAY,
        status=SessionStatus.CLOSED,
        closed_at=timezone.now(),
    )
    SessionCandidate.objects.create(session=closed, candidate=made[CandidateStatus.DELIBERATED][0])
    DeliberationSessionFactory(centre=a, certification=cqpm, status=SessionStatus.OPEN)
    staff = StaffFactory(centres=[a])
    return {"staff": staff, "a": a, "soon": soon, "later": later, "ready": ready, "in_eval": in_eval}


def test_staff_dashboard_counts(staff_data):
    context = dashboard_for(staff_data["staff"])
    by_status = widget(context, "candidates_by_status")
    assert [(str(label), n) for label, n, _url in by_status.counts] == [
        ("Inscrit", 2),
        ("Dossier validé", 1),
        ("En évaluation", 4),
        ("En attente de délibération", 3),
        ("Délibéré", 1),
        ("Abandon / retrait", 1),
    ]
    assert by_status.count == 12
    assert by_status.counts[2][2] == reverse("candidates:list") + "?status=in_evaluation"

    sessions = widget(context, "upcoming_sessions")
    assert sessions.count == 2
    assert [i.url for i in sessions.items] == [
        reverse("evaluations:session_detail", args=[staff_data["soon"].pk]),
        reverse("evaluations:session_detail", args=[staff_data["later"].pk]),
    ]
    assert "2 candidat(s) convoqué(s)" in sessions.items[1].detail

    reports = widget(context, "late_reports")
    assert reports.count == 2
    in_eval = staff_data["in_eval"]
    assert [i.url for i in reports.items] == [
        reverse("candidates:detail", args=[in_eval[0].pk]),
        reverse("candidates:detail", args=[in_eval[1].pk]),
    ]

    opinions = widget(context, "overdue_opinions")
    assert opinions.count == 2
    assert [i.url for i in opinions.items] == [
        reverse("evaluations:candidate_detail", args=[in_eval[1].pk]),
        reverse("evaluations:candidate_detail", args=[in_eval[0].pk]),
    ]
    assert opinions.items[1].detail.startswith("2 avis attendu(s)")

    ready = widget(context, "sessions_ready")
    assert ready.count == 1
    assert ready.items[0].url == reverse("deliberations:session_detail", args=[staff_data["ready"].pk])


def test_staff_home_page_shows_the_counts(staff_data, client):
    client.force_login(staff_data["staff"])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    for key, count in [
        ("candidates_by_status", 12),
        ("upcoming_sessions", 2),
        ("late_reports", 2),
        ("overdue_opinions", 2),
        ("sessions_ready", 1),
    ]:
        section = body.split(f'id="widget-{key}"')[1].split("</section>")[0]
        assert f'data-count="{count}"' in section, key
    assert reverse("deliberations:session_detail", args=[staff_data["ready"].pk]) in body


@pytest.fixture
def evaluator_data(cqpm):
    centre = CentreFactory(code="E")
    commission = CommissionFactory(centre=centre)
    evaluator = CommissionMemberFactory(commission=commission).user
    past = EvaluationSessionFactory(commission=commission, date=today() - 10 * DAY)
    future = EvaluationSessionFactory(commission=commission, date=today() + 5 * DAY)
    comps = list(cqpm.competencies.order_by("number"))

    def convened(session, submitted):
        candidate = CandidateFactory(centre=centre, certification=cqpm, status=CandidateStatus.IN_EVALUATION)
        convocation = ConvocationFactory(session=session, candidate=candidate, evaluators=[evaluator])
        for index, competency in enumerate(comps):
            ScoringSheetFactory(
                candidate=candidate,
                competency=competency,
                evaluator=evaluator,
                convocation=convocation,
                submitted=index < submitted,
            )
        return candidate

    late = convened(past, 0)
    pending = convened(future, 2)
    convened(future, 3)  # everything submitted: nothing to do
    other = CommissionMemberFactory(commission=CommissionFactory(centre=centre)).user  # not ours
    ScoringSheetFactory(candidate=CandidateFactory(centre=centre, certification=cqpm), evaluator=other)
    return {"evaluator": evaluator, "late": late, "pending": pending, "comps": comps, "past": past}


def test_evaluator_dashboard_lists_candidates_to_score_with_deadlines(evaluator_data):
    context = dashboard_for(evaluator_data["evaluator"])
    # the factories assign without the service, so no e-mail: no « Nouveaux messages » widget
    assert [w.key for w in context["widgets"]] == ["to_score"]
    to_score = widget(context, "to_score")
    assert to_score.count == 2
    late, pending = to_score.items
    assert late.url == reverse(
        "evaluations:score", args=[evaluator_data["late"].pk, evaluator_data["comps"][0].pk]
    )
    assert late.due == today() - 3 * DAY and late.late is True  # 7 days after the evaluation
    assert pending.url == reverse(
        "evaluations:score", args=[evaluator_data["pending"].pk, evaluator_data["comps"][2].pk]
    )
    assert pending.due == today() + 12 * DAY and pending.late is False
    assert "2/3 fiche(s) soumise(s)" in pending.detail


@pytest.fixture
def tutor_data(cqpm):
    centre = CentreFactory(code="T")
    tutor = TutorFactory(company__centre=centre)
    comps = list(cqpm.competencies.order_by("number"))
    todo = CandidateFactory(
        centre=centre,
        certification=cqpm,
        company=tutor.company,
        tutor=tutor,
        status=CandidateStatus.IN_EVALUATION,
    )
    for competency in comps:
        CompanyOpinionFactory(candidate=todo, competency=competency, signed=False, due_date=today() - 2 * DAY)
    done = CandidateFactory(
        centre=centre,
        certification=cqpm,
        company=tutor.company,
        tutor=tutor,
        status=CandidateStatus.IN_EVALUATION,
    )
    for competency in comps:
        CompanyOpinionFactory(candidate=done, competency=competency, signed=True)
    someone_else = CandidateFactory(centre=centre, certification=cqpm, status=CandidateStatus.IN_EVALUATION)
    CompanyOpinionFactory(candidate=someone_else, signed=False, due_date=today())
    return {"user": tutor.user, "todo": todo}


def test_tutor_dashboard_lists_opinions_to_give(tutor_data):
    context = dashboard_for(tutor_data["user"])
    opinions = widget(context, "opinions_todo")
    assert opinions.count == 1
    [item] = opinions.items
    assert item.url == reverse("evaluations:opinion", args=[tutor_data["todo"].pk])
    assert item.due == today() - 2 * DAY and item.late
    assert "0/3 avis donné(s)" in item.detail


@pytest.fixture
def jury_data(cqpm):
    centre = CentreFactory(code="J")
    user = JuryUserFactory()
    jury = paritary_jury(centre, jury_user=user)
    upcoming = DeliberationSessionFactory(
        centre=centre, certification=cqpm, jury=jury, date=today() + 10 * DAY
    )
    opened = DeliberationSessionFactory(
        centre=centre, certification=cqpm, jury=jury, date=today() - DAY, status=SessionStatus.OPEN
    )
    DeliberationSessionFactory(
        centre=centre,
        certification=cqpm,
        jury=jury,
        date=today() - 20 * DAY,
        status=SessionStatus.CLOSED,
        closed_at=timezone.now(),
    )
    DeliberationSessionFactory(
        centre=centre, certification=cqpm, jury=jury, date=today() - 5 * DAY
    )  # planned, past
    DeliberationSessionFactory(centre=centre, certification=cqpm, date=today() + 3 * DAY)  # another jury
    SessionCandidate.objects.create(
        session=upcoming, candidate=CandidateFactory(centre=centre, certification=cqpm)
    )
    return {"user": user, "upcoming": upcoming, "opened": opened}


def test_jury_dashboard_lists_next_deliberations(jury_data):
    context = dashboard_for(jury_data["user"])
    nxt = widget(context, "next_deliberations")
    assert nxt.count == 2
    assert [i.url for i in nxt.items] == [
        reverse("deliberations:session_detail", args=[jury_data["opened"].pk]),
        reverse("deliberations:session_detail", args=[jury_data["upcoming"].pk]),
    ]
    assert "1 candidat(s)" in nxt.items[1].detail


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TUTOR, Role.JURY])
def test_empty_dashboards_say_what_to_do_next(db, client, role):
    user = UserFactory(role=role, centres=[CentreFactory()])
    client.force_login(user)
    body = client.get(reverse("home")).content.decode()
    assert 'data-count="0"' in body
    assert "apparaîtront ici" in body or "convoquera" in body or "écrira" in body


# --- constant queries ------------------------------------------------------------------------------


def staff_volume(cqpm, n):
    centre = CentreFactory(code=f"V{n}")
    commission = CommissionFactory(centre=centre)
    session = EvaluationSessionFactory(commission=commission, date=today() + 3 * DAY)
    ready = DeliberationSessionFactory(centre=centre, certification=cqpm, date=today() + 9 * DAY)
    comps = list(cqpm.competencies.order_by("number"))
    for index in range(n):
        candidate = CandidateFactory(centre=centre, certification=cqpm, status=CandidateStatus.IN_EVALUATION)
        with_report_due(candidate, today() - DAY)
        CompanyOpinionFactory(candidate=candidate, competency=comps[0], signed=False, due_date=today() - DAY)
        ConvocationFactory(
            session=session,
            candidate=candidate,
            evaluators=[],
            time_slot=datetime.time(8 + index // 60, index % 60),
        )
        waiting = CandidateFactory(
            centre=centre, certification=cqpm, status=CandidateStatus.AWAITING_DELIBERATION
        )
        SessionCandidate.objects.create(session=ready, candidate=waiting)
        EvaluationSessionFactory(commission=commission, date=today() + (10 + index) * DAY)
        DeliberationSessionFactory(
            centre=centre, certification=cqpm, date=today() + (20 + index) * DAY, jury=ready.jury
        )
    return StaffFactory(centres=[centre])


@pytest.mark.parametrize("n", [5, 50])
def test_staff_dashboard_query_count_is_constant(cqpm, client, django_assert_max_num_queries, n):
    staff = staff_volume(cqpm, n)
    client.force_login(staff)
    with django_assert_max_num_queries(15):  # +1: overdue access requests (RGPD); +1: open appeals
        response = client.get(reverse("home"))
    assert f'data-count="{n}"' in response.content.decode().split('id="widget-late_reports"')[1]


def evaluator_volume(cqpm, n):
    centre = CentreFactory(code=f"W{n}")
    commission = CommissionFactory(centre=centre)
    evaluator = CommissionMemberFactory(commission=commission, is_president=True).user
    session = EvaluationSessionFactory(commission=commission, date=today())
    for index in range(n):
        candidate = CandidateFactory(centre=centre, certification=cqpm, status=CandidateStatus.IN_EVALUATION)
        convocation = ConvocationFactory(
            session=session,
            candidate=candidate,
            evaluators=[evaluator],
            time_slot=datetime.time(8 + index // 60, index % 60),
        )
        ScoringSheetFactory(candidate=candidate, evaluator=evaluator, convocation=convocation)
    return evaluator


@pytest.mark.parametrize("n", [5, 50])
def test_evaluator_dashboard_query_count_is_constant(cqpm, client, django_assert_max_num_queries, n):
    evaluator = evaluator_volume(cqpm, n)
    client.force_login(evaluator)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("home"))
    assert f'data-count="{n}"' in response.content.decode()


@pytest.mark.parametrize("n", [5, 50])
def test_tutor_and_jury_dashboards_query_count_is_constant(cqpm, client, django_assert_max_num_queries, n):
    centre = CentreFactory(code=f"X{n}")
    tutor = TutorFactory(company__centre=centre)
    jury_user = JuryUserFactory()
    jury = paritary_jury(centre, jury_user=jury_user)
    for index in range(n):
        candidate = CandidateFactory(
            centre=centre,
            certification=cqpm,
            company=tutor.company,
            tutor=tutor,
            status=CandidateStatus.IN_EVALUATION,
        )
        CompanyOpinionFactory(candidate=candidate, signed=False, due_date=today() + index * DAY)
        DeliberationSessionFactory(
            centre=centre, certification=cqpm, jury=jury, date=today() + (index + 1) * DAY
        )
    for user in (tutor.user, jury_user):
        client.force_login(user)
        with django_assert_max_num_queries(7):
            response = client.get(reverse("home"))
        assert f'data-count="{n}"' in response.content.decode()
