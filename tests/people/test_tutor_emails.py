"""Every e-mail about an account says its login: the tutor's invitation to give the company opinion
too, for a tutor account created in « Personnes » and for a first-time tutor."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from core.models import Role
from evaluations import services as evaluation_services
from people import services
from tests.evaluations.conftest import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return build_world()


def _tutor_mail(tutor):
    return [m for m in mail.outbox if m.to == [tutor.email] and "Avis" in m.subject][-1]


def test_tutor_invitation_of_an_account_created_in_personnes_says_its_login(
    world, django_capture_on_commit_callbacks
):
    tutor = world.candidate.tutor
    tutor.user = None
    tutor.save()
    with django_capture_on_commit_callbacks(execute=True):
        account = services.create_person(
            by=world.staff, role=Role.TUTOR, tutor=tutor, first_name="", last_name="", email="", invite=False
        )
        _invitation, token = evaluation_services.invite_tutor(candidate=world.candidate, by=world.staff)
    body = _tutor_mail(tutor).body
    assert f"Votre identifiant : {account.username}" in body and tutor.email in body
    # The link lets him choose the password of that account (he has none yet), then his address logs in.
    client = Client()
    url = reverse("evaluations:invitation", args=[token])
    assert account.username in client.get(url).content.decode()
    client.post(url, {"password1": "Avis-Entreprise-2026", "password2": "Avis-Entreprise-2026"})
    account.refresh_from_db()
    assert account.check_password("Avis-Entreprise-2026")
    fresh = Client()
    response = fresh.post(
        reverse("login"), {"username": tutor.email.upper(), "password": "Avis-Entreprise-2026"}
    )
    assert response.status_code == 302 and fresh.session["_auth_user_id"] == str(account.pk)


def test_first_time_tutor_invitation_says_he_can_use_his_address(world, django_capture_on_commit_callbacks):
    tutor = world.candidate.tutor
    tutor.user = None
    tutor.save()
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = evaluation_services.invite_tutor(candidate=world.candidate, by=world.staff)
    body = _tutor_mail(tutor).body
    assert f"vous pourrez aussi vous connecter avec votre adresse e-mail, {tutor.email}" in body
    client = Client()
    response = client.post(
        reverse("evaluations:invitation", args=[token]),
        {"password1": "Avis-Entreprise-2026", "password2": "Avis-Entreprise-2026"},
        follow=True,
    )
    tutor.refresh_from_db()
    assert f"Votre identifiant : {tutor.user.username}" in response.content.decode()


def test_every_email_to_an_account_names_its_login_once(db):
    from core.models import Notification
    from core.services import queue_email
    from tests.core.factories import UserFactory

    user = UserFactory(username="j.dupont")
    queue_email(
        to_email=user.email,
        subject="Rappel",
        template="core_scoring_reminder",
        context={"recipient_name": "Jean Dupont", "pending_total": 1, "rows": []},
        recipient=user,
        kind="test",
    )
    mail_ = Notification.objects.get(kind="test")
    assert (
        mail_.body_text.count("j.dupont") == 1
        and "Votre identifiant sur la plateforme : j.dupont" in mail_.body_text
    )
    assert "j.dupont" in mail_.body_html
    # Without an account (a candidate, a jury member without login): no such line.
    queue_email(
        to_email="x@example.org",
        subject="S",
        template="core_scoring_reminder",
        context={"pending_total": 1},
        kind="test2",
    )
    assert "identifiant" not in Notification.objects.get(kind="test2").body_text
