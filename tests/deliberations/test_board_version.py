"""The jury board is cached by (session, board version) (issue 21): every write the board reads bumps
the version in its own transaction, so the next request shows it. Each test loads the board first (it
is then in the cache), writes, and checks the next request shows the write."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import CandidateDocument, CandidateStatus, Dossier
from candidates.models import DocumentKind as CandidateDocumentKind
from deliberations import services
from deliberations.models import Attendance, DeliberationSession
from evaluations.models import (
    CommissionProposal,
    CompanyOpinion,
    ConflictOfInterest,
    ScoringSheet,
    SheetStatus,
)
from tests.candidates.factories import CandidateFactory, CentreFactory
from tests.deliberations.factories import JuryUserFactory, ready_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(client):
    """A session of two candidates, the first without proposal nor opinion on its competency 1."""
    centre = CentreFactory(code="BVR")
    juror = JuryUserFactory(centres=[centre])
    session = ready_session(centre=centre, n=2, jury_user=juror)
    first = session.entries.order_by("candidate__reference").first().candidate
    CommissionProposal.objects.filter(candidate=first, competency__number=1).delete()
    CompanyOpinion.objects.filter(candidate=first, competency__number=1).delete()
    Dossier.objects.update_or_create(candidate=first, defaults={"validated_at": timezone.now()})
    client.force_login(juror)
    url = reverse("deliberations:session_detail", args=[session.pk])

    def show(state=""):
        response = client.get(f"{url}?state={state}" if state else url)
        assert response.status_code == 200
        line = next((line for line in response.context["rows"] if line.candidate_id == first.pk), None)
        return response, line, {a.code for a in line.anomalies} if line else set()

    return {"session": session, "candidate": first, "show": show}


def version(session):
    return DeliberationSession.objects.values_list("board_version", flat=True).get(pk=session.pk)


def test_a_board_without_write_comes_from_the_cache(board, django_assert_max_num_queries):
    board["show"]()
    # session, user, the session (scope), jury membership: nothing of the board itself
    with django_assert_max_num_queries(6):
        board["show"]()


def test_a_commission_proposal_shows_on_the_next_request(board):
    candidate, show = board["candidate"], board["show"]
    assert "missing_proposal" in show()[2]
    competency = candidate.certification.competencies.get(number=1)
    before = version(board["session"])
    CommissionProposal.objects.create(
        candidate=candidate, competency=competency, conclusion="acquired", reason="Critères observés."
    )
    assert version(board["session"]) > before
    assert "missing_proposal" not in show()[2]


def test_a_signed_company_opinion_shows_on_the_next_request(board):
    candidate, show = board["candidate"], board["show"]
    competency = candidate.certification.competencies.get(number=1)
    CommissionProposal.objects.create(
        candidate=candidate, competency=competency, conclusion="acquired", reason="Critères observés."
    )
    assert "missing_opinion" in show()[2]
    opinion = CompanyOpinion.objects.create(
        candidate=candidate, competency=competency, tutor=candidate.tutor, opinion="unfavourable"
    )
    assert "missing_opinion" in show()[2]  # not signed yet
    response, _line, _codes = show("review")
    assert response.context["board"].counts["review"] == 0
    opinion.signed_at = timezone.now()
    opinion.save()
    _response, line, codes = show()
    assert "missing_opinion" not in codes and "needs_review" in codes and "⚠" in line.proposals
    # the session-wide divergence count and filter (the board's summary) moved too
    response, line, _codes = show("review")
    assert response.context["board"].counts["review"] == 1 and line is not None


def test_a_dossier_change_shows_on_the_next_request(board):
    candidate, show = board["candidate"], board["show"]
    assert "dossier_not_validated" not in show()[2]
    dossier = candidate.dossier
    dossier.validated_at = None
    dossier.save()
    assert "dossier_not_validated" in show()[2]
    dossier.validated_at = timezone.now()
    dossier.save()
    assert "dossier_not_validated" not in show()[2]
    # its competencies: a project presentation asks for the report, then the report arrives late
    item = dossier.items.first()
    if item is None:  # the factory built no item: the dossier's own write is what this test covers
        return
    item.modalities = ["project_presentation"]
    item.save()
    assert "missing_report" in show()[2]
    CandidateDocument.objects.create(
        candidate=candidate,
        kind=CandidateDocumentKind.REPORT,
        is_late=True,
        file="r.pdf",
        size=1,
        sha256="0" * 64,
    )
    codes = show()[2]
    assert "missing_report" not in codes and "late_report" in codes


def test_attendance_shows_on_the_next_request(board, client):
    session = board["session"]
    response, _line, _codes = board["show"]()
    assert response.context["attendance_problems"] == []
    president = session.jury.members.get(is_president=True)
    services.record_attendance(actor=None, session=session, present_member_ids=[president.pk])
    response, _line, _codes = board["show"]()
    assert response.context["attendance_problems"]  # parity / quorum no longer met
    assert [m.present for m in response.context["members"]].count(True) == 1
    Attendance.objects.filter(session=session).delete()
    response, _line, _codes = board["show"]()
    assert not any(m.attendance_recorded for m in response.context["members"])


def test_an_outcome_shows_on_the_next_request(board):
    session, show = board["session"], board["show"]
    other = session.entries.exclude(candidate=board["candidate"]).get().candidate
    response, _line, _codes = show()
    assert response.context["board"].counts["decided"] == 0
    services.record_decisions(actor=None, session=session, candidate=other, choices={})
    response, _line, _codes = show()
    counts = response.context["board"].counts
    assert counts["decided"] == 1 and counts["todo"] == 1
    line = next(line for line in response.context["rows"] if line.candidate_id == other.pk)
    assert line.decided and line.result
    response, _line, _codes = show("todo")
    assert [line.candidate_id for line in response.context["rows"]] == [board["candidate"].pk]


def test_the_candidate_and_its_evaluators_show_on_the_next_request(board):
    candidate, show = board["candidate"], board["show"]
    assert "not_awaiting" not in show()[2]
    candidate.status = CandidateStatus.IN_EVALUATION
    candidate.save()
    assert "not_awaiting" in show()[2]
    candidate.status = CandidateStatus.AWAITING_DELIBERATION
    candidate.save()
    sheet = ScoringSheet.objects.filter(candidate=candidate, status=SheetStatus.SUBMITTED).first()
    if sheet is None:
        return
    ConflictOfInterest.objects.create(user=sheet.evaluator, candidate=candidate, reason="Parent.")
    assert "evaluator_conflict" in show()[2]


def _session_updates(queries):
    table = DeliberationSession._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and table in q["sql"]]


def test_a_write_for_a_candidate_before_no_session_bumps_no_board(board):
    """The receivers read the candidate's sessions first: no UPDATE when there is none (review of
    issue 21), and still one when there is."""
    other = CandidateFactory(centre=board["candidate"].centre)
    with CaptureQueriesContext(connection) as queries:
        other.first_names = "Autre"
        other.save()
        Dossier.objects.update_or_create(candidate=other, defaults={"validated_at": timezone.now()})
    assert _session_updates(queries.captured_queries) == []

    session, candidate = board["session"], board["candidate"]
    before = version(session)
    with CaptureQueriesContext(connection) as queries:
        candidate.first_names = "Renommé"
        candidate.save()
    assert len(_session_updates(queries.captured_queries)) == 1
    assert version(session) == before + 1
    assert board["show"]()[1].full_name.endswith(" Renommé")


def test_a_cached_board_keeps_its_page():
    """The board is cached without its Paginator (its lazy messages are dear to unpickle): the page
    comes back whole."""
    import pickle

    from deliberations.selectors.board import board_page

    centre = CentreFactory(code="BVP")
    session = ready_session(centre=centre, n=3)
    board_obj = board_page(session, per_page=2, page="2")
    copy = pickle.loads(pickle.dumps(board_obj, pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own data
    assert "paginator" not in pickle.dumps(board_obj).decode("latin-1")
    assert copy.lines == board_obj.lines and copy.counts == board_obj.counts and copy.key == board_obj.key
    assert (copy.page.number, copy.page.paginator.count, copy.page.paginator.num_pages) == (2, 3, 2)
    assert list(copy.page.object_list) == list(board_obj.page.object_list)
    assert copy.page.has_previous() and not copy.page.has_next() and copy.page.start_index() == 3
