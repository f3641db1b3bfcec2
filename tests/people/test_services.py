"""The rules of « Personnes »: rights, scope, e-mail uniqueness, the invitation link (single use, expiry)."""

import re
from unittest import mock

import pytest
from django.urls import reverse

from core.exceptions import BusinessRuleError
from core.models import AuditEvent, Notification, Role, User
from people import services
from people.tokens import account_invitation_token
from tests.candidates.factories import TutorFactory
from tests.core.factories import UserFactory
from tests.deliberations.factories import JuryFactory
from tests.evaluations.factories import CommissionFactory, EvaluatorFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/compte/invitation/(?P<uid>[A-Za-z0-9_-]+)/(?P<token>[A-Za-z0-9-]+)/")


def _create(by, **kwargs):
    values = {
        "role": Role.EVALUATOR,
        "first_name": "Élodie",
        "last_name": "Martin",
        "email": "elodie.martin@example.org",
    }
    values.update(kwargs)
    return services.create_person(by=by, **values)


def _link_token(person):
    body = Notification.objects.filter(recipient=person, kind="people.invitation").latest("pk").body_text
    return LINK.search(body).group("token")


# --- creation, rights and scope --------------------------------------------------------------


def test_staff_creates_an_evaluator_without_password_and_invites_him(staff_a, centre_a):
    person = _create(staff_a, centres=[centre_a])
    assert person.role == Role.EVALUATOR and person.is_active
    assert not person.has_usable_password()
    assert not person.is_superuser and not person.is_staff
    assert list(person.centres.all()) == [centre_a]
    assert person.username == "elodie.martin"
    mail = Notification.objects.get(recipient=person, kind="people.invitation")
    assert mail.to_email == "elodie.martin@example.org"
    assert "Votre identifiant : elodie.martin" in mail.body_text
    assert "elodie.martin@example.org" in mail.body_text
    assert LINK.search(mail.body_text)
    actions = list(AuditEvent.objects.filter(target_id=str(person.pk)).values_list("action", "centre_id"))
    assert ("people.account_created", centre_a.pk) in actions
    assert ("people.invitation_sent", centre_a.pk) in actions
    # The journal holds ids, never the name or the address.
    for event in AuditEvent.objects.filter(target_id=str(person.pk)):
        assert "Martin" not in event.message and "example.org" not in str(event.data)


def test_generated_logins_are_unique_and_without_accents(staff_a, centre_a):
    first = _create(
        staff_a, centres=[centre_a], first_name="Zoé", last_name="Lefèvre", email="z1@example.org"
    )
    second = _create(
        staff_a, centres=[centre_a], first_name="Zoé", last_name="Lefèvre", email="z2@example.org"
    )
    assert (first.username, second.username) == ("zoe.lefevre", "zoe.lefevre-2")


@pytest.mark.parametrize("role", [Role.STAFF, Role.EVALUATOR, Role.JURY])
def test_staff_cannot_create_an_account_for_another_centre(staff_a, centre_b, role):
    with pytest.raises(BusinessRuleError, match="vos propres centres"):
        _create(staff_a, role=role, centres=[centre_b])
    assert not User.objects.filter(email="elodie.martin@example.org").exists()


def test_a_centre_is_required(staff_a):
    with pytest.raises(BusinessRuleError, match="au moins un centre"):
        _create(staff_a, centres=[])


def test_superuser_creates_for_any_centre_but_never_a_superuser(superuser, centre_a, centre_b):
    person = _create(superuser, role=Role.STAFF, centres=[centre_a, centre_b])
    assert set(person.centres.all()) == {centre_a, centre_b}
    assert not person.is_superuser and not person.is_staff


@pytest.mark.parametrize("role", ["", "admin", "superuser"])
def test_unknown_roles_are_refused(staff_a, centre_a, role):
    with pytest.raises(BusinessRuleError, match="rôle"):
        _create(staff_a, role=role, centres=[centre_a])


def test_only_centre_staff_manage_accounts(centre_a):
    evaluator = EvaluatorFactory(centres=[centre_a])
    with pytest.raises(BusinessRuleError, match="Seul le personnel"):
        _create(evaluator, centres=[centre_a])


@pytest.mark.parametrize(
    "email", ["elodie.martin@example.org", "ELODIE.Martin@Example.org", "  elodie.martin@example.org "]
)
def test_an_address_already_used_is_refused_whatever_its_case(staff_a, centre_a, email):
    UserFactory(username="ancien", email="Elodie.Martin@example.org", centres=[centre_a])
    with pytest.raises(BusinessRuleError, match="Un autre compte utilise déjà l'adresse"):
        _create(staff_a, centres=[centre_a], email=email)


def test_a_login_already_taken_or_with_an_at_sign_is_refused(staff_a, centre_a):
    UserFactory(username="emartin", centres=[centre_a])
    with pytest.raises(BusinessRuleError, match="déjà pris"):
        _create(staff_a, centres=[centre_a], username="EMartin")
    with pytest.raises(BusinessRuleError, match="arobase"):
        _create(staff_a, centres=[centre_a], username="e@martin")


def test_tutor_account_from_a_new_record_in_the_company(staff_a, company_a, centre_a):
    person = _create(staff_a, role=Role.TUTOR, company=company_a, function="Chef d'atelier", centres=[])
    tutor = person.tutor_profile
    assert (tutor.company, tutor.email, tutor.function) == (company_a, person.email, "Chef d'atelier")
    assert list(person.centres.all()) == [centre_a]


def test_tutor_account_for_an_existing_record(staff_a, company_a):
    tutor = TutorFactory(
        company=company_a, user=None, first_name="Luc", last_name="Bernard", email="luc@forges.test"
    )
    person = _create(staff_a, role=Role.TUTOR, tutor=tutor, first_name="", last_name="", email="")
    tutor.refresh_from_db()
    assert tutor.user == person
    assert (person.first_name, person.last_name, person.email) == ("Luc", "Bernard", "luc@forges.test")


def test_tutor_of_another_centres_company_is_refused(staff_b, company_a):
    with pytest.raises(BusinessRuleError, match="vos propres centres"):
        _create(staff_b, role=Role.TUTOR, company=company_a)


def test_a_tutor_record_that_has_an_account_cannot_get_a_second(staff_a, company_a):
    tutor = TutorFactory(company=company_a)
    with pytest.raises(BusinessRuleError, match="déjà un compte"):
        _create(staff_a, role=Role.TUTOR, tutor=tutor)


# --- editing, deactivation ---------------------------------------------------------------------


def test_staff_edits_a_person_of_his_centre(staff_a, centre_a):
    person = _create(staff_a, centres=[centre_a])
    services.update_person(
        by=staff_a, person=person, first_name="Élodie", last_name="Martin-Roy", email="e.roy@example.org"
    )
    person.refresh_from_db()
    assert (person.last_name, person.email) == ("Martin-Roy", "e.roy@example.org")
    event = AuditEvent.objects.filter(action="people.account_updated").latest("pk")
    assert event.data["fields"] == ["email", "last_name"]


def test_staff_cannot_touch_an_account_of_another_centre_or_shared_with_one(staff_a, centre_a, centre_b):
    foreign = EvaluatorFactory(centres=[centre_b])
    shared = EvaluatorFactory(centres=[centre_a, centre_b])
    for person in (foreign, shared):
        with pytest.raises(BusinessRuleError, match="seul un administrateur"):
            services.deactivate_person(by=staff_a, person=person)
        with pytest.raises(BusinessRuleError, match="seul un administrateur"):
            services.update_person(by=staff_a, person=person, first_name="X", last_name="Y", email="x@y.org")
    assert User.objects.get(pk=shared.pk).is_active


def test_staff_cannot_touch_a_superuser(staff_a, centre_a):
    admin = UserFactory(is_superuser=True, is_staff=True, centres=[centre_a])
    with pytest.raises(BusinessRuleError, match="administrateur de la plateforme"):
        services.deactivate_person(by=staff_a, person=admin)


def test_staff_cannot_move_a_person_to_another_centre(staff_a, centre_a, centre_b):
    person = _create(staff_a, centres=[centre_a])
    with pytest.raises(BusinessRuleError, match="vos propres centres"):
        services.update_person(
            by=staff_a,
            person=person,
            first_name="Élodie",
            last_name="Martin",
            email=person.email,
            centres=[centre_b],
        )
    assert list(person.centres.all()) == [centre_a]


def test_changing_to_an_address_of_another_account_is_refused(staff_a, centre_a):
    UserFactory(email="pris@example.org", centres=[centre_a])
    person = _create(staff_a, centres=[centre_a])
    with pytest.raises(BusinessRuleError, match="Un autre compte"):
        services.update_person(
            by=staff_a, person=person, first_name="A", last_name="B", email="PRIS@example.org"
        )


def test_deactivate_and_reactivate(staff_a, centre_a, client, password):
    person = EvaluatorFactory(centres=[centre_a])
    services.deactivate_person(by=staff_a, person=person)
    person.refresh_from_db()
    assert not person.is_active
    response = client.post(reverse("login"), {"username": person.email, "password": password})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    with pytest.raises(BusinessRuleError, match="déjà désactivé"):
        services.deactivate_person(by=staff_a, person=person)
    services.reactivate_person(by=staff_a, person=person)
    person.refresh_from_db()
    assert person.is_active
    actions = set(AuditEvent.objects.filter(target_id=str(person.pk)).values_list("action", flat=True))
    assert {"people.account_deactivated", "people.account_reactivated"} <= actions


def test_nobody_deactivates_his_own_account(staff_a):
    with pytest.raises(BusinessRuleError, match="propre compte"):
        services.deactivate_person(by=staff_a, person=staff_a)


# --- the invitation link ---------------------------------------------------------------------


def test_the_link_sets_the_password_once(staff_a, centre_a):
    person = _create(staff_a, centres=[centre_a])
    token = _link_token(person)
    assert services.invitation_link_valid(person, token)
    services.accept_invitation(person=person, token=token, password="Soudure-Orbitale-2026")
    person.refresh_from_db()
    assert person.check_password("Soudure-Orbitale-2026")
    assert AuditEvent.objects.filter(action="people.invitation_used", actor=person).exists()
    with pytest.raises(BusinessRuleError, match="plus valide"):
        services.accept_invitation(person=person, token=token, password="Autre-Mot-De-Passe-99")
    person.refresh_from_db()
    assert person.check_password("Soudure-Orbitale-2026")


def test_a_new_invitation_replaces_the_previous_link(staff_a, centre_a):
    person = _create(staff_a, centres=[centre_a])
    first = _link_token(person)
    services.send_invitation(by=staff_a, person=person)
    person.refresh_from_db()
    second = _link_token(person)
    assert not services.invitation_link_valid(person, first)
    assert services.invitation_link_valid(person, second)


def test_the_link_expires(staff_a, centre_a, settings):
    settings.CQPM = {**settings.CQPM, "ACCOUNT_INVITATION_DAYS": 3}
    person = _create(staff_a, centres=[centre_a])
    token = _link_token(person)
    now = account_invitation_token._now()
    with mock.patch.object(type(account_invitation_token), "_now", return_value=now + _days(2.9)):
        assert services.invitation_link_valid(person, token)
    with mock.patch.object(type(account_invitation_token), "_now", return_value=now + _days(3.1)):
        assert not services.invitation_link_valid(person, token)
        with pytest.raises(BusinessRuleError, match="plus valide"):
            services.accept_invitation(person=person, token=token, password="Soudure-Orbitale-2026")


def _days(n):
    import datetime

    return datetime.timedelta(days=n)


def test_the_link_does_not_open_a_deactivated_account_or_one_with_a_password(staff_a, centre_a):
    person = _create(staff_a, centres=[centre_a])
    token = _link_token(person)
    services.deactivate_person(by=staff_a, person=person)
    person.refresh_from_db()
    assert not services.invitation_link_valid(person, token)
    existing = EvaluatorFactory(centres=[centre_a])  # has a password
    with pytest.raises(BusinessRuleError, match="déjà choisi son mot de passe"):
        services.send_invitation(by=staff_a, person=existing)


def test_a_password_reset_token_is_not_an_invitation_token(staff_a, centre_a):
    from django.contrib.auth.tokens import default_token_generator

    person = _create(staff_a, centres=[centre_a])
    assert not services.invitation_link_valid(person, default_token_generator.make_token(person))


def test_weak_passwords_are_refused_with_the_validators_message(staff_a, centre_a):
    person = _create(staff_a, centres=[centre_a])
    with pytest.raises(BusinessRuleError) as exc:
        services.accept_invitation(person=person, token=_link_token(person), password="123")
    assert "trop court" in exc.value.message or "court" in exc.value.message
    person.refresh_from_db()
    assert not person.has_usable_password()


def test_the_sent_invitation_is_kept_without_its_link(staff_a, centre_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        person = _create(staff_a, centres=[centre_a])
    mail = Notification.objects.get(recipient=person, kind="people.invitation")
    assert mail.status == "sent"
    assert not LINK.search(mail.body_text) and "lien-personnel-masque" in mail.body_text
    assert "Votre identifiant : elodie.martin" in mail.body_text


# --- memberships ---------------------------------------------------------------------------------


def test_commission_membership_managed_from_the_person(staff_a, centre_a):
    person = _create(staff_a, centres=[centre_a])
    commission = CommissionFactory(centre=centre_a)
    member = services.add_commission_membership(
        by=staff_a, person=person, commission=commission, qualification="Soudage", college="employers"
    )
    assert (member.user, member.qualification, member.is_president) == (person, "Soudage", False)
    services.set_commission_president(by=staff_a, membership=member)
    member.refresh_from_db()
    assert member.is_president
    services.remove_commission_membership(by=staff_a, membership=member)
    assert not commission.members.exists()
    actions = set(AuditEvent.objects.filter(actor=staff_a).values_list("action", flat=True))
    assert {"evaluations.member_added", "evaluations.president_set", "evaluations.member_removed"} <= actions


def test_commission_of_another_centre_is_refused(staff_a, centre_a, centre_b):
    person = _create(staff_a, centres=[centre_a])
    with pytest.raises(BusinessRuleError, match="pas pour ce centre"):
        services.add_commission_membership(
            by=staff_a, person=person, commission=CommissionFactory(centre=centre_b), qualification="Soudage"
        )


def test_only_evaluators_sit_on_commissions(staff_a, centre_a):
    jury_person = _create(staff_a, role=Role.JURY, centres=[centre_a])
    with pytest.raises(BusinessRuleError, match="évaluateur"):
        services.add_commission_membership(
            by=staff_a, person=jury_person, commission=CommissionFactory(centre=centre_a), qualification="X"
        )


def test_jury_seat_managed_from_the_person(staff_a, centre_a):
    person = _create(staff_a, role=Role.JURY, centres=[centre_a], email="jury@example.org")
    jury = JuryFactory(centre=centre_a)
    seat = services.add_jury_seat(
        by=staff_a, person=person, jury=jury, college="employers", is_president=True
    )
    assert (seat.user, seat.full_name, seat.email, seat.is_president) == (
        person,
        "Élodie Martin",
        "jury@example.org",
        True,
    )
    with pytest.raises(BusinessRuleError, match="syndicale"):
        services.add_jury_seat(
            by=staff_a, person=person, jury=JuryFactory(centre=centre_a), college="employees"
        )
    services.remove_jury_seat(by=staff_a, seat=seat)
    assert not jury.members.exists()


def test_jury_of_another_centre_and_wrong_roles_are_refused(staff_a, centre_a, centre_b):
    person = _create(staff_a, role=Role.JURY, centres=[centre_a])
    with pytest.raises(BusinessRuleError, match="pas pour ce centre"):
        services.add_jury_seat(
            by=staff_a, person=person, jury=JuryFactory(centre=centre_b), college="employers"
        )
    evaluator = _create(staff_a, centres=[centre_a], email="eval@example.org")
    with pytest.raises(BusinessRuleError, match="membre de jury"):
        services.add_jury_seat(
            by=staff_a, person=evaluator, jury=JuryFactory(centre=centre_a), college="employers"
        )


def test_editing_a_tutor_account_updates_his_tutor_record(staff_a, company_a):
    person = _create(staff_a, role=Role.TUTOR, company=company_a)
    services.update_person(
        by=staff_a, person=person, first_name="Élodie", last_name="Martin", email="e.martin@forges.test"
    )
    person.tutor_profile.refresh_from_db()
    assert person.tutor_profile.email == "e.martin@forges.test"
