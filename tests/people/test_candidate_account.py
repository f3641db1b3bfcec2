"""The candidate's own account (issue 23): created and invited when staff validate the dossier."""

import pytest
from django.urls import reverse

from candidates import services as candidate_services
from core.models import AuditEvent, Role, User
from tests.candidates.factories import CandidateFactory
from tests.core.factories import UserFactory
from tests.people.test_views import _invitation_path

pytestmark = pytest.mark.django_db


def test_validating_the_dossier_creates_and_invites_the_candidate_then_he_logs_in_with_his_address(
    client, staff_a, centre_a
):
    candidate = CandidateFactory(centre=centre_a, email="Lea.Petit@exemple.test")
    candidate_services.validate_dossier(dossier=candidate.dossier, by=staff_a)
    candidate.refresh_from_db()
    person = candidate.user
    assert person is not None and person.role == Role.CANDIDATE and person.is_candidate
    assert not person.has_usable_password() and not person.is_staff and not person.is_superuser
    assert list(person.centres.all()) == [centre_a]
    assert AuditEvent.objects.filter(action="people.account_created", target_id=str(person.pk)).exists()
    path = _invitation_path(person)
    # Not « Candidat-… »: the factory names him « Candidat<n> », and Django's similarity validator
    # refused such a password for some values of n (which depend on the tests run before).
    password = "Zyqxwk!Vhjy#Kqzy-Wxq"
    response = client.post(path, {"new_password1": password, "new_password2": password})
    assert response.status_code == 302
    # single use
    assert "lien d'invitation n'est plus valide" in client.get(path).content.decode()
    response = client.post(reverse("login"), {"username": "lea.petit@exemple.test", "password": password})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(person.pk)
    assert client.get(reverse("home")).url == reverse("people:candidate_home")
    assert client.get(reverse("people:candidate_home")).status_code == 200


def test_no_second_account_when_the_dossier_is_validated_again(staff_a, centre_a):
    from people.services import create_candidate_account

    candidate = CandidateFactory(centre=centre_a)
    candidate_services.validate_dossier(dossier=candidate.dossier, by=staff_a)
    assert create_candidate_account(by=staff_a, candidate=candidate) is None
    assert User.objects.filter(role=Role.CANDIDATE).count() == 1


def test_without_address_or_with_an_address_taken_the_validation_stands_and_the_reason_is_audited(
    staff_a, centre_a
):
    without = CandidateFactory(centre=centre_a, email="")
    candidate_services.validate_dossier(dossier=without.dossier, by=staff_a)
    UserFactory(username="deja-pris", email="pris@exemple.test")
    taken = CandidateFactory(centre=centre_a, email="PRIS@exemple.test")
    candidate_services.validate_dossier(dossier=taken.dossier, by=staff_a)
    for candidate in (without, taken):
        candidate.refresh_from_db()
        assert candidate.user is None and candidate.dossier.is_frozen
    reasons = sorted(
        event.data.get("reason")
        for event in AuditEvent.objects.filter(action="people.candidate_account_skipped")
    )
    assert reasons == ["email_taken", "no_email"]


def test_staff_see_the_candidate_account_in_personnes_and_may_send_a_new_invitation(
    client, staff_a, centre_a
):
    candidate = CandidateFactory(centre=centre_a)
    candidate_services.validate_dossier(dossier=candidate.dossier, by=staff_a)
    candidate.refresh_from_db()
    client.force_login(staff_a)
    assert candidate.user.username in client.get(reverse("people:list")).content.decode()
    assert client.get(reverse("people:detail", args=[candidate.user.pk])).status_code == 200
    first = _invitation_path(candidate.user)
    response = client.post(reverse("people:invite", args=[candidate.user.pk]))
    assert response.status_code == 302
    assert _invitation_path(candidate.user) != first
