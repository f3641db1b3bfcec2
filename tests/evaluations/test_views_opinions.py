"""Company opinion: the tutor's invitation link (expired, reused, other tutor's candidate), VAE refusal,
the opinion form and sign-off, reminders."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from candidates.models import CandidateStatus
from core.models import AuditEvent, Notification, Role
from evaluations import services
from evaluations.models import CompanyOpinion, TutorInvitation
from evaluations.tasks import redact_sent_invitation_links, send_opinion_reminders
from evaluations.tokens import hash_token
from tests.candidates.factories import CandidateFactory, TutorFactory
from tests.evaluations.conftest import build_world

pytestmark = pytest.mark.django_db


def login(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def invited(world, django_capture_on_commit_callbacks):
    """The world's candidate, whose tutor has no account yet, invited by the staff."""
    tutor = world.candidate.tutor
    tutor.user = None
    tutor.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.invite_tutor(
            candidate=world.candidate,
            by=world.staff,
            due_date=timezone.localdate() + datetime.timedelta(days=10),
        )
    return world, invitation, token


def test_invitation_creates_one_opinion_per_competency_and_emails_a_single_use_link(invited):
    world, invitation, token = invited
    assert CompanyOpinion.objects.filter(candidate=world.candidate).count() == len(world.competencies)
    assert invitation.token_hash == hash_token(token) and token not in invitation.token_hash
    email = [m for m in mail.outbox if m.to == [world.candidate.tutor.email]][-1]
    assert reverse("evaluations:invitation", args=[token]) in email.body
    # the outbox keeps no usable link once the email is sent (only the hash is stored)
    stored = Notification.objects.get(kind="evaluations.tutor_invitation")
    assert token not in stored.body_text and token not in stored.body_html
    assert "lien-personnel-masque" in stored.body_text


def test_first_use_sets_a_password_logs_in_and_shows_only_his_candidates(invited):
    world, invitation, token = invited
    client = Client()
    url = reverse("evaluations:invitation", args=[token])
    page = client.get(url)
    assert page.status_code == 200 and "Choisissez votre mot de passe" in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"
    response = client.post(
        url, {"password1": "Un-mot-de-passe-solide-42", "password2": "Un-mot-de-passe-solide-42"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("evaluations:opinion", args=[world.candidate.pk])
    tutor = world.candidate.tutor
    tutor.refresh_from_db()
    assert tutor.user.role == Role.TUTOR and tutor.user.check_password("Un-mot-de-passe-solide-42")
    assert AuditEvent.objects.filter(action="evaluations.invitation_used", actor=tutor.user).exists()
    todo = client.get(reverse("evaluations:opinions_todo")).content.decode()
    assert world.candidate.full_name in todo
    # another tutor's candidate is out of reach
    other = CandidateFactory(centre=world.centre, status=CandidateStatus.IN_EVALUATION)
    assert other.full_name not in todo
    assert client.get(reverse("evaluations:opinion", args=[other.pk])).status_code == 404
    assert client.post(reverse("evaluations:opinion", args=[other.pk]), {"action": "sign"}).status_code == 404


def test_reused_link_is_refused(invited):
    _world, _invitation, token = invited
    url = reverse("evaluations:invitation", args=[token])
    Client().post(url, {"password1": "Un-mot-de-passe-solide-42", "password2": "Un-mot-de-passe-solide-42"})
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        assert response.status_code == 410
        assert "déjà été utilisé" in response.content.decode()


def test_expired_link_is_refused(invited):
    world, invitation, token = invited
    TutorInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    url = reverse("evaluations:invitation", args=[token])
    response = Client().post(
        url, {"password1": "Un-mot-de-passe-solide-42", "password2": "Un-mot-de-passe-solide-42"}
    )
    assert response.status_code == 410 and "expiré" in response.content.decode()
    world.candidate.tutor.refresh_from_db()
    assert world.candidate.tutor.user is None


def test_unknown_link_is_a_404():
    response = Client().get(reverse("evaluations:invitation", args=["nimporte-quoi"]))
    assert response.status_code == 404


def test_a_new_invitation_expires_the_previous_link(invited, django_capture_on_commit_callbacks):
    world, _invitation, old_token = invited
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_tutor(candidate=world.candidate, by=world.staff)
    assert Client().get(reverse("evaluations:invitation", args=[old_token])).status_code == 410


def test_weak_password_is_refused_and_link_stays_usable(invited):
    _world, invitation, token = invited
    url = reverse("evaluations:invitation", args=[token])
    response = Client().post(url, {"password1": "123", "password2": "123"})
    assert response.status_code == 400
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_tutor_with_an_account_is_sent_to_the_login_page(world, django_capture_on_commit_callbacks):
    # An invitation link never opens an account that has a password (security review, finding 2).
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = services.invite_tutor(candidate=world.candidate, by=world.staff)
    client = Client()
    url = reverse("evaluations:invitation", args=[token])
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert "_auth_user_id" not in client.session
    # with his own password he lands on the opinion the link was about
    from urllib.parse import parse_qs, urlparse

    from core.demo import DEMO_PASSWORD

    target = parse_qs(urlparse(response["Location"]).query)["next"][0]
    assert target == reverse("evaluations:opinion", args=[world.candidate.pk])
    tutor_user = world.candidate.tutor.user
    tutor_user.set_password(DEMO_PASSWORD)
    tutor_user.save()
    logged = client.post(
        reverse("login"), {"username": tutor_user.username, "password": DEMO_PASSWORD, "next": target}
    )
    assert logged.status_code == 302 and logged["Location"] == target


def test_vae_candidate_is_refused_with_a_message(world):
    vae = CandidateFactory(centre=world.centre, vae=True, status=CandidateStatus.IN_EVALUATION)
    with pytest.raises(Exception, match="VAE"):
        services.invite_tutor(candidate=vae, by=world.staff)
    response = login(world.staff).post(
        reverse("evaluations:invite_tutor", args=[vae.pk]), {"due_date": "2030-01-01"}, follow=True
    )
    assert "ne s&#x27;applique pas aux candidats en VAE" in response.content.decode()
    assert not CompanyOpinion.objects.filter(candidate=vae).exists()
    # a tutor linked to a VAE candidate still gets a refusal, not a form
    tutor = TutorFactory(company__centre=world.centre)
    vae.tutor = tutor
    vae.save()
    response = login(tutor.user).get(reverse("evaluations:opinion", args=[vae.pk]))
    assert response.status_code == 400 and "VAE" in response.content.decode()
    assert 'name="action"' not in response.content.decode()


def test_tutor_gives_and_signs_the_opinion_which_is_then_locked(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_tutor(candidate=world.candidate, by=world.staff)
    tutor_user = world.candidate.tutor.user
    client = login(tutor_user)
    url = reverse("evaluations:opinion", args=[world.candidate.pk])
    competencies = world.competencies
    data = {f"o-{c.pk}": "favourable" for c in competencies[:-1]}
    data["action"] = "sign"
    response = client.post(url, data)
    assert response.status_code == 400 and "avant de signer" in response.content.decode()
    data[f"o-{competencies[-1].pk}"] = "reserved"
    data[f"m-{competencies[-1].pk}"] = "Autonomie encore partielle"
    assert client.post(url, data).status_code == 302
    opinions = CompanyOpinion.objects.filter(candidate=world.candidate)
    assert all(o.signed_at and o.signed_by == tutor_user for o in opinions)
    assert opinions.get(competency=competencies[-1]).comment == "Autonomie encore partielle"
    response = client.post(url, {f"o-{competencies[0].pk}": "unfavourable", "action": "save"})
    assert response.status_code == 400 and "signé" in response.content.decode()
    assert opinions.get(competency=competencies[0]).opinion == "favourable"
    history = opinions.get(competency=competencies[-1]).history.order_by("history_id")
    assert [h.opinion for h in history] == ["", "reserved", "reserved"]


def test_staff_and_evaluators_cannot_use_tutor_pages(world):
    for user in (world.staff, world.member):
        client = login(user)
        assert client.get(reverse("evaluations:opinions_todo")).status_code == 403
        assert client.get(reverse("evaluations:opinion", args=[world.candidate.pk])).status_code == 403


def test_reminders_are_sent_on_schedule_once(world, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_tutor(
            candidate=world.candidate, by=world.staff, due_date=today + datetime.timedelta(days=2)
        )
    assert send_opinion_reminders(today=today - datetime.timedelta(days=1)) == 0  # J-3: not a reminder day
    with django_capture_on_commit_callbacks(execute=True):
        assert send_opinion_reminders(today=today) == 1  # J-2
        assert send_opinion_reminders(today=today) == 0  # idempotent
    reminder = Notification.objects.get(kind="evaluations.opinion_reminder")
    assert reminder.to_email == world.candidate.tutor.email and "dans 2 jours" in reminder.body_text
    CompanyOpinion.objects.filter(candidate=world.candidate).update(
        opinion="favourable", signed_at=timezone.now()
    )
    assert send_opinion_reminders(today=today + datetime.timedelta(days=2)) == 0  # signed: no more reminders


def test_reminder_to_a_tutor_without_password_carries_a_fresh_link(
    invited, django_capture_on_commit_callbacks
):
    world, invitation, old_token = invited
    due = CompanyOpinion.objects.filter(candidate=world.candidate).first().due_date
    with django_capture_on_commit_callbacks(execute=True):
        assert send_opinion_reminders(today=due - datetime.timedelta(days=7)) == 1
    assert TutorInvitation.objects.filter(tutor=world.candidate.tutor).count() == 2
    assert Client().get(reverse("evaluations:invitation", args=[old_token])).status_code == 410
    assert redact_sent_invitation_links() == 0  # already redacted right after sending


@pytest.mark.parametrize("rows", [5, 50])
def test_opinions_todo_query_budget(rows, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    world = build_world()
    tutor = world.candidate.tutor
    for _index in range(rows):
        candidate = CandidateFactory(
            centre=world.centre, company=tutor.company, tutor=tutor, status=CandidateStatus.DOSSIER_VALIDATED
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.invite_tutor(candidate=candidate, by=world.staff)
    client = login(tutor.user)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("evaluations:opinions_todo"))
    assert len(set(re.findall(r"/evaluations/avis/\d+/", response.content.decode()))) == rows


def test_staff_copy_the_tutors_link_a_fresh_one_audited_without_email(
    world, django_capture_on_commit_callbacks
):
    """« Copier le lien »: staff who phone the tutor get a fresh link (the emailed one stops working);
    JSON for the page's script, a readonly field without JavaScript; audited; no e-mail."""
    from tests.core.factories import CentreFactory, StaffFactory

    with django_capture_on_commit_callbacks(execute=True):
        _first, old_token = services.invite_tutor(candidate=world.candidate, by=world.staff)
    mail.outbox.clear()
    url = reverse("evaluations:tutor_invitation_link", args=[world.candidate.pk])
    staff = login(world.staff)
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff.post(url, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and answer["Cache-Control"].startswith("max-age=0")
    link = answer.json()["url"]
    token = re.search(r"/evaluations/invitation/([\w-]+)/$", link).group(1)
    assert services.check_invitation(token).candidate_id == world.candidate.pk
    with pytest.raises(Exception, match="plus valable|expiré|n'est plus"):
        services.check_invitation(old_token)
    assert not mail.outbox
    event = AuditEvent.objects.filter(action="evaluations.tutor_invitation_link_shown").get()
    assert event.actor == world.staff and token not in str(event.__dict__)
    # Without JavaScript: a page with the link in a readonly field.
    page = staff.post(url).content.decode()
    assert 'id="tutor-link"' in page and "readonly" in page and "/evaluations/invitation/" in page
    assert AuditEvent.objects.filter(action="evaluations.tutor_invitation_link_shown").count() == 2
    # Staff of another centre: 404, and nothing revealed nor audited; other roles: 403.
    other = StaffFactory(centres=[CentreFactory(code="Z")])
    assert login(other).post(url, HTTP_ACCEPT="application/json").status_code == 404
    assert login(world.member).post(url).status_code == 403
    assert login(world.staff).get(url).status_code == 405
    assert AuditEvent.objects.filter(action="evaluations.tutor_invitation_link_shown").count() == 2


def test_copy_link_refused_for_vae_with_its_message(world):
    vae = CandidateFactory(centre=world.centre, vae=True, status=CandidateStatus.IN_EVALUATION)
    url = reverse("evaluations:tutor_invitation_link", args=[vae.pk])
    answer = login(world.staff).post(url, HTTP_ACCEPT="application/json")
    assert answer.status_code == 400 and "VAE" in answer.json()["error"]
    page = login(world.staff).post(url, follow=True).content.decode()
    assert "ne s&#x27;applique pas aux candidats en VAE" in page
    assert not AuditEvent.objects.filter(action="evaluations.tutor_invitation_link_shown").exists()
