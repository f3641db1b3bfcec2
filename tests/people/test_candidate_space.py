"""The candidate's own space (issue 23): his results and documents only after the jury closed, his
own only (another candidate's document is a 404), every download audited."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent, Role
from deliberations.models import (
    DeliberationSession,
    DocumentKind,
    DocumentStatus,
    GeneratedDocument,
    SessionStatus,
)
from tests.core.factories import CentreFactory, UserFactory
from tests.deliberations.factories import ready_session
from tests.referential.factories import CertificationFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def _document(session, candidate, number):
    document = GeneratedDocument(
        kind=DocumentKind.CERTIFICATE,
        session=session,
        candidate=candidate,
        number=number,
        status=DocumentStatus.DONE,
        is_current=True,
        finished_at=timezone.now(),
    )
    document.file.save(f"{number}.pdf", ContentFile(PDF), save=False)
    document.save()
    return document


@pytest.fixture
def world():
    centre = CentreFactory(code="CS", name="UIMM Espace")
    session = ready_session(centre=centre, certification=CertificationFactory(), n=2)
    mine, other = [entry.candidate for entry in session.entries.order_by("pk")]
    account = UserFactory(username="candidat-espace", role=Role.CANDIDATE, centres=[centre])
    mine.user = account
    mine.save(update_fields=["user"])
    return {
        "session": session,
        "account": account,
        "mine": _document(session, mine, "CQPM-CS-2026-MINE"),
        "other": _document(session, other, "CQPM-CS-2026-OTHER"),
    }


def test_nothing_before_the_jury_closes_then_own_documents_only_and_audited(client, world):
    client.force_login(world["account"])
    assert client.get(reverse("home")).url == reverse("people:candidate_home")
    html = client.get(reverse("people:candidate_home")).content.decode()
    assert "lorsque le jury aura clos" in html and "CQPM-CS-2026-MINE" not in html
    mine_url = reverse("people:candidate_document", args=[world["mine"].pk])
    assert client.get(mine_url).status_code == 404  # the session is not closed: never a draft
    # Test setup: the jury closed the session (the closing service itself is tested in deliberations).
    DeliberationSession.objects.filter(pk=world["session"].pk).update(
        status=SessionStatus.CLOSED, closed_at=timezone.now()
    )
    html = client.get(reverse("people:candidate_home")).content.decode()
    assert reverse("deliberations:verify_number", args=["CQPM-CS-2026-MINE"]) in html
    assert "CQPM-CS-2026-OTHER" not in html
    response = client.get(mine_url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    assert AuditEvent.objects.filter(
        action="document.downloaded",
        actor=world["account"],
        data__document_id=str(world["mine"].pk),
    ).exists()
    other_url = reverse("people:candidate_document", args=[world["other"].pk])
    assert client.get(other_url).status_code == 404


def test_a_replaced_edition_is_no_longer_offered(client, world):
    DeliberationSession.objects.filter(pk=world["session"].pk).update(
        status=SessionStatus.CLOSED, closed_at=timezone.now()
    )
    GeneratedDocument.objects.filter(pk=world["mine"].pk).update(is_current=False)
    client.force_login(world["account"])
    assert client.get(reverse("people:candidate_document", args=[world["mine"].pk])).status_code == 404


def test_staff_have_no_candidate_space(client, world):
    staff = UserFactory(username="staff-espace", role=Role.STAFF)
    client.force_login(staff)
    assert client.get(reverse("people:candidate_home")).status_code == 403
