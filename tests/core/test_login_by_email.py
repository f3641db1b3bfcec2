"""Logging in with the login or the e-mail address, the password reset by either (its e-mail says the
login), the user menu (name and login), the admin for superusers only with French names."""

import pytest
from django.core import mail
from django.urls import reverse

from core.models import AuditEvent
from tests.core.factories import CentreFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre():
    return CentreFactory(code="LE", name="UIMM Lorraine")


@pytest.fixture
def camille(centre):
    return StaffFactory(
        username="c.dupont",
        email="Camille.Dupont@example.org",
        first_name="Camille",
        last_name="Dupont",
        centres=[centre],
    )


def _login(client, identifier, password):
    return client.post(reverse("login"), {"username": identifier, "password": password})


@pytest.mark.parametrize(
    "identifier",
    ["c.dupont", "camille.dupont@example.org", "CAMILLE.DUPONT@EXAMPLE.ORG", " camille.dupont@example.org "],
)
def test_login_with_the_login_or_the_address_in_any_case(client, camille, password, identifier):
    response = _login(client, identifier, password)
    assert response.status_code == 302, response.content.decode()[:500]
    assert client.session["_auth_user_id"] == str(camille.pk)


def test_wrong_password_with_the_address_fails_like_any_wrong_password(client, camille):
    response = _login(client, "camille.dupont@example.org", "mauvais")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login_failed").exists()


def test_unknown_address_fails(client, camille, password):
    response = _login(client, "personne@example.org", password)
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_a_shared_address_logs_in_the_account_whose_password_matches(client, camille, centre, password):
    other = UserFactory(username="c.dupont-2", email="camille.dupont@EXAMPLE.org", centres=[centre])
    other.set_password("Un-Autre-Mot-De-Passe-42")
    other.save()
    assert _login(client, "camille.dupont@example.org", "Un-Autre-Mot-De-Passe-42").status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_a_shared_address_with_the_same_password_is_refused(client, camille, centre, password):
    UserFactory(username="c.dupont-2", email="camille.dupont@example.org", centres=[centre])  # same password
    response = _login(client, "camille.dupont@example.org", password)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert _login(client, "c.dupont", password).status_code == 302  # the login still works


def test_a_deactivated_account_cannot_log_in_with_its_address(client, camille, password):
    camille.is_active = False
    camille.save()
    assert _login(client, "camille.dupont@example.org", password).status_code == 200


def test_failures_with_the_address_count_against_the_login(client, camille, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "camille.dupont@example.org", "mauvais")
    response = _login(client, "c.dupont", "mauvais")
    assert response.status_code in (403, 429) or "bloqué" in response.content.decode()


def test_login_page_says_login_or_address(client):
    html = client.get(reverse("login")).content.decode()
    assert "Identifiant ou adresse e-mail" in html


@pytest.mark.parametrize("identifier", ["c.dupont", "camille.dupont@example.org"])
def test_password_reset_by_login_or_address_says_the_login(client, camille, identifier):
    response = client.post(reverse("password_reset"), {"email": identifier})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Camille.Dupont@example.org"]
    assert "Votre identifiant : c.dupont" in message.body
    assert "Bonjour Camille Dupont" in message.body


def test_password_reset_for_an_unknown_login_sends_nothing_and_says_the_same(client, camille):
    response = client.post(reverse("password_reset"), {"email": "inconnu"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_user_menu_shows_full_name_and_login(client, camille):
    client.force_login(camille)
    html = client.get(reverse("home")).content.decode()
    assert "Camille Dupont" in html
    assert 'Identifiant : <span class="account-login">c.dupont</span>' in html


def test_user_menu_is_per_user(client, camille, centre):
    """The login is outside the page chrome rendered once per process."""
    other = StaffFactory(username="j.martin", centres=[centre])
    client.force_login(camille)
    client.get(reverse("home"))
    client.force_login(other)
    html = client.get(reverse("home")).content.decode()
    assert "j.martin" in html and "c.dupont" not in html


def test_django_admin_is_for_superusers_only(client, camille):
    camille.is_staff = True  # even with Django's admin flag, a centre staff member is refused
    camille.save()
    client.force_login(camille)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_speaks_french_for_the_second_factor(client):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    html = client.get("/admin/").content.decode()
    assert "Double authentification" in html and "Appareils d&#x27;authentification (TOTP)" in html
    assert "OTP_TOTP" not in html and "TOTP devices" not in html
    assert "Administration de la certification CQPM" in html


def test_admin_refuses_an_address_of_another_account(client, camille, centre):
    from core.admin import UniqueEmailUserChangeForm

    other = UserFactory(username="autre", centres=[centre])
    form = UniqueEmailUserChangeForm(
        instance=other,
        data={
            "username": "autre",
            "email": "CAMILLE.dupont@example.org",
            "role": "staff",
            "date_joined_0": "01/01/2026",
            "date_joined_1": "10:00:00",
        },
    )
    assert not form.is_valid()
    assert "Un autre compte utilise déjà cette adresse" in str(form.errors["email"])
