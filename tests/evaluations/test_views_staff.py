"""Staff pages: commissions, conflicts, sessions, convening, the board, reopening, history."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from candidates.models import CandidateStatus
from evaluations.models import (
    CommissionMember,
    ConflictOfInterest,
    Convocation,
    EvaluationSession,
    SheetStatus,
)
from tests.candidates.factories import CandidateFactory
from tests.evaluations.conftest import build_world, judge_all
from tests.evaluations.factories import ConflictOfInterestFactory, EvaluatorFactory

pytestmark = pytest.mark.django_db


def login(user):
    client = Client()
    client.force_login(user)
    return client


STAFF_URLS = [
    ("evaluations:session_list", []),
    ("evaluations:session_create", []),
    ("evaluations:commission_list", []),
    ("evaluations:commission_create", []),
]


def test_staff_pages_are_403_for_other_roles(world):
    tutor = world.candidate.tutor.user
    for user in (world.member, tutor):
        client = login(user)
        for name, args in STAFF_URLS:
            assert client.get(reverse(name, args=args)).status_code == 403, name
        for name, obj in (
            ("evaluations:session_detail", world.session),
            ("evaluations:convene", world.session),
            ("evaluations:commission_detail", world.commission),
            ("evaluations:candidate_detail", world.candidate),
            ("evaluations:candidate_history", world.candidate),
        ):
            assert client.get(reverse(name, args=[obj.pk])).status_code == 403, name
        assert (
            client.post(reverse("evaluations:sheet_reopen", args=[world.sheet(world.member).pk])).status_code
            == 403
        )


def test_staff_of_another_centre_gets_404(world):
    other = build_world(code="B")
    client = login(other.staff)
    for name, obj in (
        ("evaluations:session_detail", world.session),
        ("evaluations:convene", world.session),
        ("evaluations:commission_detail", world.commission),
        ("evaluations:candidate_detail", world.candidate),
        ("evaluations:candidate_history", world.candidate),
        ("evaluations:sheet_detail", world.sheet(world.member)),
    ):
        assert client.get(reverse(name, args=[obj.pk])).status_code == 404, name
    assert (
        client.post(
            reverse("evaluations:sheet_reopen", args=[world.sheet(world.member).pk]), {"reason": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("evaluations:assign", args=[world.convocation.pk]), {"user": world.member.pk}
        ).status_code
        == 404
    )
    page = client.get(reverse("evaluations:session_list")).content.decode()
    assert reverse("evaluations:session_detail", args=[world.session.pk]) not in page


def test_staff_plan_a_session_and_convene_a_candidate(world, django_capture_on_commit_callbacks):
    client = login(world.staff)
    response = client.post(
        reverse("evaluations:session_create"),
        {
            "commission": world.commission.pk,
            "date": "2030-03-04",
            "place": "",
            "is_remote": "on",
            "remote_details": "https://visio/x",
        },
    )
    session = EvaluationSession.objects.get(date=datetime.date(2030, 3, 4))
    assert response.status_code == 302 and session.is_remote
    candidate = CandidateFactory(centre=world.centre, status=CandidateStatus.DOSSIER_VALIDATED)
    form = client.get(reverse("evaluations:convene", args=[session.pk])).content.decode()
    assert candidate.reference in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("evaluations:convene", args=[session.pk]),
            {
                "candidate": candidate.pk,
                "time_slot": "10:30",
                "evaluators": [world.president.pk, world.member.pk],
            },
        )
    assert response.status_code == 302
    convocation = Convocation.objects.get(session=session, candidate=candidate)
    assert convocation.convened_at is not None
    board = client.get(reverse("evaluations:session_detail", args=[session.pk])).content.decode()
    assert candidate.full_name in board and "10h30" in board and "non commencée" in board


def test_convening_a_conflicted_member_is_refused_with_a_message(world):
    candidate = CandidateFactory(centre=world.centre, status=CandidateStatus.DOSSIER_VALIDATED)
    ConflictOfInterestFactory(user=world.member, company=candidate.company, reason="Ancien salarié")
    client = login(world.staff)
    form = client.get(reverse("evaluations:convene", args=[world.session.pk])).content.decode()
    assert "intérêts connus" in form and world.member.get_full_name() in form
    response = client.post(
        reverse("evaluations:convene", args=[world.session.pk]),
        {
            "candidate": candidate.pk,
            "time_slot": "11:00",
            "evaluators": [world.president.pk, world.member.pk],
        },
    )
    assert response.status_code == 200
    assert "Conflit d&#x27;intérêts" in response.content.decode()
    assert not Convocation.objects.filter(candidate=candidate).exists()


def test_board_shows_who_scored_what_and_conflicts(world):
    judge_all(world, world.member, "acquired", conclusion="acquired")
    page = (
        login(world.staff)
        .get(reverse("evaluations:session_detail", args=[world.session.pk]))
        .content.decode()
    )
    assert "soumise · acquise" in page and "non commencée" in page
    ConflictOfInterest.objects.create(
        user=world.president, candidate=world.candidate, reason="déclaré après coup"
    )
    page = (
        login(world.staff)
        .get(reverse("evaluations:session_detail", args=[world.session.pk]))
        .content.decode()
    )
    assert "conflit déclaré avec ce candidat" in page


def test_reopen_through_the_page_needs_a_reason(world):
    sheet = judge_all(world, world.member, "acquired", conclusion="acquired")
    client = login(world.staff)
    url = reverse("evaluations:sheet_reopen", args=[sheet.pk])
    response = client.post(url, {"reason": ""}, follow=True)
    assert "motif" in response.content.decode()
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.SUBMITTED
    client.post(url, {"reason": "Erreur sur le critère 3"})
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.DRAFT and sheet.reopened_reason == "Erreur sur le critère 3"
    detail = client.get(reverse("evaluations:sheet_detail", args=[sheet.pk])).content.decode()
    assert "Erreur sur le critère 3" in detail


def test_history_page_shows_who_changed_what_before_and_after(world):
    sheet = judge_all(world, world.member, "acquired", conclusion="acquired", submit=False)
    from evaluations import services

    criterion = world.criteria()[0]
    services.save_sheet(
        sheet=sheet,
        by=world.member,
        expected_version=sheet.version,
        judgements={criterion.pk: ("not_acquired", "")},
        conclusion="acquired",
    )
    page = (
        login(world.staff)
        .get(reverse("evaluations:candidate_history", args=[world.candidate.pk]))
        .content.decode()
    )
    assert "Acquis → Non acquis" in page
    assert world.member.get_full_name() in page
    assert "Critère 1 de C1" in page


def test_commission_members_president_and_conflict_declaration(world):
    client = login(world.staff)
    newcomer = EvaluatorFactory(centres=[world.centre])
    url = reverse("evaluations:commission_detail", args=[world.commission.pk])
    assert newcomer.get_full_name() in client.get(url).content.decode()
    client.post(
        reverse("evaluations:member_add", args=[world.commission.pk]),
        {"user": newcomer.pk, "qualification": "Chaudronnerie", "college": "employers"},
    )
    member = CommissionMember.objects.get(commission=world.commission, user=newcomer)
    client.post(reverse("evaluations:member_president", args=[member.pk]))
    member.refresh_from_db()
    assert member.is_president
    assert CommissionMember.objects.filter(commission=world.commission, is_president=True).count() == 1
    response = client.post(
        reverse("evaluations:conflict_declare"),
        {
            "user": world.member.pk,
            "candidate": world.candidate.pk,
            "reason": "Cousin",
            "next_commission": world.commission.pk,
        },
        follow=True,
    )
    assert "retiré de 1 convocation" in response.content.decode()
    assert not world.convocation.evaluators.filter(pk=world.member.pk).exists()


def test_candidate_detail_offers_the_tutor_invitation_and_grid(world):
    page = (
        login(world.staff)
        .get(reverse("evaluations:candidate_detail", args=[world.candidate.pk]))
        .content.decode()
    )
    assert "Inviter le tuteur" in page
    assert reverse("evaluations:grid_pdf", args=[world.candidate.pk, world.competencies[0].pk]) in page


@pytest.mark.parametrize("rows", [5, 50])
def test_session_board_query_budget(world, rows, django_assert_max_num_queries):
    from evaluations import services

    for index in range(rows):
        candidate = CandidateFactory(centre=world.centre, status=CandidateStatus.DOSSIER_VALIDATED)
        services.convene_candidate(
            session=world.session,
            candidate=candidate,
            time_slot=(datetime.datetime(2026, 1, 1, 10) + datetime.timedelta(minutes=5 * index)).time(),
            by=world.staff,
        )
    client = login(world.staff)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("evaluations:session_detail", args=[world.session.pk]))
    assert response.content.decode().count('class="card mb-3"') == rows + 1


def test_admin_lists_evaluations_read_only(world, admin_client):
    judge_all(world, world.member, "acquired", conclusion="acquired")
    for model in ("commission", "scoringsheet", "companyopinion", "tutorinvitation", "convocation"):
        response = admin_client.get(reverse(f"admin:evaluations_{model}_changelist"))
        assert response.status_code == 200, model
    sheet = world.sheet(world.member)
    history = admin_client.get(reverse("admin:evaluations_scoringsheet_history", args=[sheet.pk]))
    assert history.status_code == 200
    assert admin_client.get(reverse("admin:evaluations_scoringsheet_add")).status_code == 403


def test_conflict_removal_is_scoped_to_the_centre(world):
    conflict = ConflictOfInterestFactory(user=world.member, candidate=world.candidate)
    other = build_world(code="B")
    assert (
        login(other.staff).post(reverse("evaluations:conflict_remove", args=[conflict.pk])).status_code == 404
    )
    assert ConflictOfInterest.objects.filter(pk=conflict.pk).exists()
    login(world.staff).post(reverse("evaluations:conflict_remove", args=[conflict.pk]))
    assert not ConflictOfInterest.objects.filter(pk=conflict.pk).exists()
