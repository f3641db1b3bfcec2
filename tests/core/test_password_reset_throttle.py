"""The password reset form is rate-limited per client address and per e-mail address."""

import pytest
from django.urls import reverse

from core import auth_views
from core.models import AuditEvent
from tests.core.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _ask(client, email, ip="203.0.113.7"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_a_known_address_gets_at_most_the_allowed_number_of_mails_per_hour(client, mailoutbox):
    user = StaffFactory(email="rh@example.org")
    for _ in range(auth_views.PASSWORD_RESET_PER_EMAIL + 2):
        response = _ask(client, "RH@example.org ")
        # Same answer every time: the page never tells that the limit is reached for this address.
        assert response.status_code == 302
        assert response.url == reverse("password_reset_done")
    assert len(mailoutbox) == auth_views.PASSWORD_RESET_PER_EMAIL
    assert all(message.to == [user.email] for message in mailoutbox)


def test_one_address_over_the_limit_does_not_block_another(client, mailoutbox):
    StaffFactory(email="a@example.org")
    StaffFactory(email="b@example.org")
    for _ in range(auth_views.PASSWORD_RESET_PER_EMAIL + 1):
        _ask(client, "a@example.org")
    _ask(client, "b@example.org")
    assert [m.to for m in mailoutbox].count(["b@example.org"]) == 1


def test_a_client_address_over_the_limit_is_refused_with_a_message_and_audited(client, mailoutbox):
    for number in range(auth_views.PASSWORD_RESET_PER_IP):
        assert _ask(client, f"unknown{number}@example.org").status_code == 302
    response = _ask(client, "unknown@example.org")
    assert response.status_code == 429
    assert "Trop de demandes de réinitialisation" in response.content.decode()
    assert AuditEvent.objects.filter(
        action="auth.password_reset_throttled", ip_address="203.0.113.7"
    ).exists()
    # Another client address is not affected.
    assert _ask(client, "unknown@example.org", ip="198.51.100.1").status_code == 302
    assert mailoutbox == []


def test_invalid_submissions_are_answered_as_usual_and_not_counted(client):
    for _ in range(auth_views.PASSWORD_RESET_PER_IP + 2):
        response = client.post(reverse("password_reset"), {"email": ""}, REMOTE_ADDR="203.0.113.8")
        assert response.status_code == 200  # the form again, with its field error
    assert _ask(client, "someone@example.org", ip="203.0.113.8").status_code == 302
