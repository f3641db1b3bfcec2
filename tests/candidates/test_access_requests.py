"""Issue 22, point 5: the right of access (RGPD art. 15) has a register — each request recorded
(who, when, how the identity was verified), its one-month deadline (art. 12.3), the answer produced
(the personal-data export, its SHA-256) and when it was sent; overdue requests on the staff
dashboard. Through the pages, as staff use them."""

import datetime
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates import services
from candidates.models import AccessRequest
from core.models import AuditEvent
from tests.candidates.factories import CandidateFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime.date(2026, 1, 15), datetime.date(2026, 2, 15)),
        (datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)),
        (datetime.date(2026, 12, 10), datetime.date(2027, 1, 10)),
    ],
)
def test_the_answer_is_due_one_month_after_receipt(received, due):
    assert services.access_due_on(received) == due


def test_a_request_is_recorded_answered_with_the_export_and_sent(client_a, staff_a, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    today = timezone.localdate()
    detail = client_a.get(reverse("candidates:detail", args=[candidate.pk])).content.decode()
    create = reverse("candidates:access_request_create", args=[candidate.pk])
    assert create in detail

    data = {
        "requester": "Le candidat",
        "received_on": today.isoformat(),
        "channel": "email",
        "identity_check": "Copie de la carte d'identité comparée au dossier, puis détruite.",
    }
    future = {**data, "received_on": (today + datetime.timedelta(days=1)).isoformat()}
    response = client_a.post(create, future)
    assert "postérieure à aujourd&#x27;hui" in response.content.decode()
    assert not AccessRequest.objects.exists()

    response = client_a.post(create, data)
    access_request = AccessRequest.objects.get()
    assert response.url == reverse("candidates:access_request_detail", args=[access_request.pk])
    assert access_request.due_on == services.access_due_on(today)
    assert access_request.recorded_by == staff_a
    detail = reverse("candidates:access_request_detail", args=[access_request.pk])

    # Sending before producing the answer is refused.
    sent = reverse("candidates:access_request_sent", args=[access_request.pk])
    client_a.post(sent, {"sent_on": today.isoformat(), "channel": "email"})
    access_request.refresh_from_db()
    assert access_request.sent_on is None

    response = client_a.post(reverse("candidates:access_request_answer", args=[access_request.pk]))
    assert response["Content-Type"] == "application/zip"
    access_request.refresh_from_db()
    assert access_request.answer_sha256 == hashlib.sha256(response.content).hexdigest()
    assert access_request.answer_produced_by == staff_a

    client_a.post(sent, {"sent_on": today.isoformat(), "channel": "email"})
    access_request.refresh_from_db()
    assert access_request.sent_on == today and access_request.sent_by == staff_a
    page = client_a.get(detail).content.decode()
    assert access_request.answer_sha256 in page
    assert {
        "rgpd.access_request_recorded",
        "rgpd.access_answer_produced",
        "rgpd.access_answer_sent",
    } <= set(AuditEvent.objects.values_list("action", flat=True))


def test_overdue_requests_show_on_the_staff_dashboard_and_the_register(client_a, staff_a, centre_a, client):
    candidate = CandidateFactory(centre=centre_a)
    today = timezone.localdate()
    late = services.record_access_request(
        candidate=candidate,
        by=staff_a,
        requester="Le candidat",
        received_on=today - datetime.timedelta(days=40),
        channel="mail",
        identity_check="Pièce d'identité.",
    )
    on_time = services.record_access_request(
        candidate=candidate,
        by=staff_a,
        requester="Son avocat",
        received_on=today - datetime.timedelta(days=3),
        channel="mail",
        identity_check="Mandat et pièce d'identité.",
    )
    home = client_a.get(reverse("home")).content.decode()
    widget = home.split('id="widget-overdue_access_requests"')[1]
    assert reverse("candidates:access_request_detail", args=[late.pk]) in widget
    assert reverse("candidates:access_request_detail", args=[on_time.pk]) not in widget
    register = client_a.get(reverse("candidates:access_request_list")).content.decode()
    assert register.count("en retard</span>") == 1


def test_another_centre_neither_sees_nor_answers_a_request(client, staff_a, staff_b, centre_a):
    candidate = CandidateFactory(centre=centre_a)
    access_request = services.record_access_request(
        candidate=candidate,
        by=staff_a,
        requester="Le candidat",
        received_on=timezone.localdate(),
        channel="mail",
        identity_check="Pièce d'identité.",
    )
    client.force_login(staff_b)
    assert (
        client.get(reverse("candidates:access_request_detail", args=[access_request.pk])).status_code == 404
    )
    assert (
        client.post(reverse("candidates:access_request_answer", args=[access_request.pk])).status_code == 404
    )
    assert access_request.pk not in [
        r.pk for r in client.get(reverse("candidates:access_request_list")).context["rows"]
    ]
