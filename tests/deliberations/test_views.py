"""Pages: scope (404), role (403), the board's query budget, the document page's polling, the public
verification page."""

import pytest
from django.urls import reverse

from core.models import AuditEvent, Role
from deliberations import selectors, services
from deliberations.models import (
    CandidateOutcome,
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
    SessionStatus,
)
from tests.core.factories import CentreFactory, StaffFactory, UserFactory
from tests.deliberations.factories import JuryUserFactory, evaluated_candidate, ready_session
from tests.evaluations.factories import EvaluatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """Centre A with a closed session (jury user sits on it) and an open one; centre B with its own."""
    centre_a, centre_b = CentreFactory(code="A"), CentreFactory(code="B")
    juror = JuryUserFactory(centres=[centre_a])
    other_juror = JuryUserFactory(centres=[centre_a])
    closed = ready_session(centre=centre_a, n=2, jury_user=juror)
    for entry in closed.entries.all():
        services.record_decisions(actor=None, session=closed, candidate=entry.candidate, choices={})
    with django_capture_on_commit_callbacks(execute=True):
        services.close_session(actor=None, session=closed)
    open_session = ready_session(
        centre=centre_a, certification=closed.certification, n=1, jury_user=other_juror
    )
    session_b = ready_session(centre=centre_b, n=1)
    return {
        "closed": closed,
        "open": open_session,
        "b": session_b,
        "staff_a": StaffFactory(centres=[centre_a]),
        "staff_b": StaffFactory(centres=[centre_b]),
        "juror": juror,
        "other_juror": other_juror,
    }


def login(client, user):
    client.force_login(user)
    return client


# --- Scope and roles ----------------------------------------------------------------------------------
def test_session_list_shows_each_user_only_their_sessions(client, world):
    response = login(client, world["staff_a"]).get(reverse("deliberations:session_list"))
    assert {s.pk for s in response.context["sessions"]} == {world["closed"].pk, world["open"].pk}
    response = login(client, world["juror"]).get(reverse("deliberations:session_list"))
    assert [s.pk for s in response.context["sessions"]] == [world["closed"].pk]
    response = login(client, world["staff_b"]).get(reverse("deliberations:session_list"))
    assert [s.pk for s in response.context["sessions"]] == [world["b"].pk]


@pytest.mark.parametrize(
    ("user_key", "session_key", "status"),
    [
        ("staff_a", "closed", 200),
        ("juror", "closed", 200),
        ("other_juror", "closed", 404),  # a jury member of another jury
        ("staff_b", "closed", 404),  # staff of centre B
        ("juror", "open", 404),
        ("other_juror", "open", 200),
    ],
)
def test_board_scope(client, world, user_key, session_key, status):
    url = reverse("deliberations:session_detail", args=[world[session_key].pk])
    assert login(client, world[user_key]).get(url).status_code == status


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TUTOR])
def test_other_roles_are_refused(client, world, role):
    user = UserFactory(role=role, centres=[world["closed"].centre])
    client.force_login(user)
    assert client.get(reverse("deliberations:session_list")).status_code == 403
    assert client.get(reverse("deliberations:session_detail", args=[world["closed"].pk])).status_code == 403


def test_documents_are_downloaded_only_within_scope_and_every_download_is_audited(client, world):
    pv = GeneratedDocument.objects.get(session=world["closed"], kind=DocumentKind.PV, is_current=True)
    url = reverse("deliberations:document_download", args=[pv.pk])
    for key in ("other_juror", "staff_b"):
        assert login(client, world[key]).get(url).status_code == 404
    response = login(client, world["juror"]).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert pv.number in response["Content-Disposition"]
    events = AuditEvent.objects.filter(action="document.downloaded", data__document_id=str(pv.pk))
    assert events.count() == 1 and events.get().actor == world["juror"]
    client.logout()
    assert client.get(url).status_code == 302  # anonymous → login


def test_jury_member_cannot_manage_the_session(client, world):
    login(client, world["other_juror"])
    url = reverse("deliberations:session_attendance", args=[world["open"].pk])
    assert client.post(url, {"present": []}).status_code == 403
    assert (
        client.post(
            reverse("deliberations:document_request", args=[world["open"].pk]), {"kind": "attendance"}
        ).status_code
        == 403
    )


# --- The board: checks, decisions, closing in the browser -----------------------------------------------
def test_decide_and_close_through_the_pages(client, world, django_capture_on_commit_callbacks):
    session = world["open"]
    candidate = session.entries.get().candidate
    c3 = session.certification.competencies.get(number=3)
    login(client, world["other_juror"])
    board = client.get(reverse("deliberations:session_detail", args=[session.pk]))
    assert candidate.reference in board.content.decode() and "Complet" in board.content.decode()
    url = reverse("deliberations:candidate_decide", args=[session.pk, candidate.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Acquise" in page.content.decode()
    data = {f"decided_{c.pk}": "acquired" for c in session.certification.competencies.all()}
    data[f"decided_{c3.pk}"] = "not_acquired"
    response = client.post(url, data)
    assert response.status_code == 200  # re-rendered with the error, no 500
    assert "motivation écrite est obligatoire" in response.content.decode()
    assert not CandidateOutcome.objects.filter(candidate=candidate).exists()
    data[f"motivation_{c3.pk}"] = "Résultat non démontré."
    response = client.post(url, data)
    assert response.status_code == 302
    assert CandidateOutcome.objects.get(candidate=candidate).result == "partial"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("deliberations:session_close", args=[session.pk]))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED
    kinds = set(
        GeneratedDocument.objects.filter(session=session, status=DocumentStatus.DONE).values_list(
            "kind", flat=True
        )
    )
    assert kinds == {"pv", "attendance", "letter", "block_attestation"}


def test_close_refused_with_the_reason_shown(client, world):
    session = world["open"]
    session.attendances.update(present=False)
    login(client, world["staff_a"])
    response = client.post(reverse("deliberations:session_close", args=[session.pk]), follow=True)
    body = response.content.decode()
    assert "ne peut pas être close" in body and "Quorum non atteint" in body
    session.refresh_from_db()
    assert session.status != SessionStatus.CLOSED


def test_amend_after_closing_is_staff_only(client, world):
    session = world["closed"]
    candidate = session.entries.first().candidate
    url = reverse("deliberations:candidate_decide", args=[session.pk, candidate.pk])
    assert login(client, world["juror"]).get(url).status_code == 403
    page = login(client, world["staff_a"]).get(url)
    assert page.status_code == 200 and "Motif de la modification" in page.content.decode()


@pytest.mark.parametrize("size", [5, 50])
def test_board_query_budget_is_constant(client, django_assert_max_num_queries, size):
    centre = CentreFactory(code=f"Q{size}")
    staff = StaffFactory(centres=[centre])
    session = ready_session(centre=centre, n=size)
    # a mix of states: some decided, some incomplete
    for entry in session.entries.all()[:2]:
        services.record_decisions(actor=None, session=session, candidate=entry.candidate, choices={})
    incomplete = evaluated_candidate(centre, session.certification, opinions={2: None})
    services.add_candidates(actor=None, session=session, candidates=[incomplete])
    client.force_login(staff)
    url = reverse("deliberations:session_detail", args=[session.pk])
    with django_assert_max_num_queries(25):
        response = client.get(url)
    assert response.status_code == 200
    # one page of the board, the counts of the whole session
    assert len(response.context["rows"]) == min(size + 1, selectors.BOARD_PAGE_SIZE)
    assert response.context["board"].counts == {"all": size + 1, "todo": size - 1, "decided": 2, "review": 0}
    assert f"(2 / {size + 1} décidés)" in response.content.decode()


@pytest.mark.parametrize("size", [5, 50])
def test_session_list_query_budget_is_constant(client, django_assert_max_num_queries, size):
    centre = CentreFactory(code=f"L{size}")
    staff = StaffFactory(centres=[centre])
    from tests.deliberations.factories import DeliberationSessionFactory, paritary_jury

    jury = paritary_jury(centre)
    for _ in range(size):
        DeliberationSessionFactory(centre=centre, jury=jury)
    client.force_login(staff)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("deliberations:session_list"))
    assert len(response.context["sessions"]) == size


# --- Documents page: htmx polling, broker down -------------------------------------------------------------
def test_documents_page_polls_pending_jobs_and_offers_retry_on_failure(
    client, world, monkeypatch, django_capture_on_commit_callbacks
):
    session = world["open"]
    login(client, world["staff_a"])
    monkeypatch.setattr(services, "safe_delay", lambda task, *args: None)  # the broker is down
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("deliberations:document_request", args=[session.pk]), {"kind": "attendance"}
        )
    assert response.status_code == 302
    response = client.get(response["Location"])
    body = response.content.decode()
    assert "indisponible" in body and "Relancer" in body
    document = GeneratedDocument.objects.get(session=session, kind=DocumentKind.ATTENDANCE)
    assert document.status == DocumentStatus.FAILED
    assert 'hx-trigger="every 2s"' not in body  # nothing to poll for a failed job
    monkeypatch.undo()
    # retry through htmx: the row is swapped for a queued row that polls its own status every 2 s
    with django_capture_on_commit_callbacks(execute=True):
        row = client.post(reverse("deliberations:document_retry", args=[document.pk]), HTTP_HX_REQUEST="true")
    html = row.content.decode()
    assert row.status_code == 200 and html.startswith(f'<tr id="doc-{document.pk}"')
    assert (
        'hx-trigger="every 2s"' in html
        and reverse("deliberations:document_status", args=[document.pk]) in html
    )
    assert "<script" not in html
    # the job ran (eager here) once committed: the next poll shows the download and stops polling
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE
    fragment = client.get(reverse("deliberations:document_status", args=[document.pk])).content.decode()
    assert "Télécharger" in fragment and 'hx-trigger="every 2s"' not in fragment


def test_public_verification_shows_genuine_or_unknown_and_masks_the_holder(client, world):
    certificate = GeneratedDocument.objects.filter(
        session=world["closed"], kind=DocumentKind.CERTIFICATE
    ).first()
    candidate = certificate.candidate
    response = client.get(reverse("deliberations:verify_number", args=[certificate.number]))
    body = response.content.decode()
    assert response.status_code == 200 and "Document authentique" in body
    assert certificate.number in body and world["closed"].certification.title in body
    assert candidate.birth_name not in body and candidate.birth_name[0] + "***" in body.replace(
        "*" * 4, "***"
    )
    assert candidate.reference not in body and candidate.email not in body
    unknown = client.get(reverse("deliberations:verify_number", args=["CQPM-A-2026-NOPE"]))
    assert "Numéro inconnu" in unknown.content.decode()
    # Every numbered document verifies, the result letter too (issue 17).
    letter = GeneratedDocument.objects.filter(session=world["closed"], kind=DocumentKind.LETTER).first()
    letter_page = client.get(reverse("deliberations:verify_number", args=[letter.number])).content.decode()
    assert "Document authentique" in letter_page and "Lettre de résultat" in letter_page
    assert (
        client.get(reverse("deliberations:verify") + "?numero=" + certificate.number.lower()).status_code
        == 302
    )


def test_evaluator_scope_helpers_stay_untouched(world):
    # an evaluator sees no deliberation session at all
    from deliberations.selectors import sessions_visible_to

    assert not sessions_visible_to(EvaluatorFactory(centres=[world["closed"].centre])).exists()
