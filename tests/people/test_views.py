"""The pages of « Personnes » and the invitation link, through the test client."""

import re

import pytest
from django.urls import reverse

from core.models import Notification, Role, User
from tests.core.factories import UserFactory
from tests.deliberations.factories import JuryFactory
from tests.evaluations.factories import CommissionFactory, EvaluatorFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/compte/invitation/[A-Za-z0-9_-]+/[A-Za-z0-9-]+/")


def _invitation_path(person):
    body = Notification.objects.filter(recipient=person, kind="people.invitation").latest("pk").body_text
    return LINK.search(body).group(0)


def test_list_shows_only_the_people_of_my_centres(client, staff_a, centre_a, centre_b):
    EvaluatorFactory(last_name="Delorme", centres=[centre_a])
    EvaluatorFactory(last_name="Étranger", centres=[centre_b])
    client.force_login(staff_a)
    html = client.get(reverse("people:list")).content.decode()
    assert "DELORME" in html and "ÉTRANGER" not in html
    assert "Personnes" in html


def test_list_search_and_filters(client, staff_a, centre_a):
    EvaluatorFactory(last_name="Delorme", centres=[centre_a])
    EvaluatorFactory(last_name="Fabre", centres=[centre_a], is_active=False)
    client.force_login(staff_a)
    html = client.get(reverse("people:list"), {"q": "delor"}).content.decode()
    assert "DELORME" in html and "FABRE" not in html
    html = client.get(reverse("people:list"), {"status": "inactive"}).content.decode()
    assert "FABRE" in html and "DELORME" not in html
    html = client.get(reverse("people:list"), {"q": "personne-inconnue"}).content.decode()
    assert "Aucune personne ne correspond" in html


def test_create_an_evaluator_from_the_page(client, staff_a, centre_a):
    client.force_login(staff_a)
    response = client.post(
        reverse("people:create"),
        {
            "role": Role.EVALUATOR,
            "first_name": "Hugo",
            "last_name": "Petit",
            "email": "hugo.petit@example.org",
            "centres": [centre_a.pk],
        },
    )
    person = User.objects.get(email="hugo.petit@example.org")
    assert response.status_code == 302 and response["Location"] == reverse("people:detail", args=[person.pk])
    html = client.get(response["Location"]).content.decode()
    assert "hugo.petit" in html and "Invitation en attente" in html
    assert "Compte créé (identifiant « hugo.petit »)" in html


def test_a_refused_creation_keeps_what_was_typed(client, staff_a, centre_a):
    EvaluatorFactory(email="pris@example.org", centres=[centre_a])
    client.force_login(staff_a)
    response = client.post(
        reverse("people:create"),
        {
            "role": Role.EVALUATOR,
            "first_name": "Hugo",
            "last_name": "Petit",
            "email": "PRIS@example.org",
            "centres": [centre_a.pk],
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Un autre compte utilise déjà l&#x27;adresse" in html
    assert 'value="Hugo"' in html and 'value="Petit"' in html


def test_other_roles_get_403_and_other_centres_404(client, staff_b, centre_a):
    person = EvaluatorFactory(centres=[centre_a])
    client.force_login(person)
    assert client.get(reverse("people:list")).status_code == 403
    client.force_login(staff_b)
    assert client.get(reverse("people:detail", args=[person.pk])).status_code == 404
    assert client.post(reverse("people:deactivate", args=[person.pk])).status_code == 404


def test_deactivate_from_the_page(client, staff_a, centre_a):
    person = EvaluatorFactory(centres=[centre_a])
    client.force_login(staff_a)
    response = client.post(reverse("people:deactivate", args=[person.pk]), follow=True)
    assert "Compte désactivé" in response.content.decode()
    person.refresh_from_db()
    assert not person.is_active


def test_shared_account_is_read_only_for_centre_staff(client, staff_a, centre_a, centre_b):
    person = EvaluatorFactory(centres=[centre_a, centre_b])
    client.force_login(staff_a)
    html = client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "seul un administrateur de la plateforme peut le modifier" in html
    assert reverse("people:deactivate", args=[person.pk]) not in html
    response = client.post(reverse("people:deactivate", args=[person.pk]), follow=True)
    assert "seul un administrateur" in response.content.decode()
    person.refresh_from_db()
    assert person.is_active


def test_memberships_from_the_persons_page(client, staff_a, centre_a):
    person = EvaluatorFactory(centres=[centre_a])
    commission = CommissionFactory(centre=centre_a, name="Commission usinage")
    client.force_login(staff_a)
    html = client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "Commission usinage" in html and "Ajouter à une commission" in html
    response = client.post(
        reverse("people:commission_add", args=[person.pk]),
        {"commission": commission.pk, "qualification": "Usinage", "college": "", "is_president": "on"},
        follow=True,
    )
    assert "Ajouté(e) à la commission « Commission usinage »" in response.content.decode()
    member = commission.members.get()
    assert member.user == person and member.is_president
    response = client.post(
        reverse("people:commission_add", args=[person.pk]), {"qualification": ""}, follow=True
    )
    assert "Le formulaire contient des erreurs" in response.content.decode()
    client.post(reverse("people:commission_remove", args=[person.pk, member.pk]))
    assert not commission.members.exists()


def test_jury_seat_from_the_persons_page(client, staff_a, centre_a):
    from tests.deliberations.factories import JuryUserFactory

    person = JuryUserFactory(centres=[centre_a], first_name="Anne", last_name="Roux")
    jury = JuryFactory(centre=centre_a, name="Jury Lorraine")
    client.force_login(staff_a)
    response = client.post(
        reverse("people:jury_add", args=[person.pk]),
        {"jury": jury.pk, "college": "employees", "union": "CFDT"},
        follow=True,
    )
    assert "Ajouté(e) au jury « Jury Lorraine »" in response.content.decode()
    seat = jury.members.get()
    assert (seat.user, seat.full_name, seat.union) == (person, "Anne Roux", "CFDT")
    client.post(reverse("people:jury_remove", args=[person.pk, seat.pk]))
    assert not jury.members.exists()


def test_invitation_link_page_then_login_with_the_address(client, staff_a, centre_a):
    from people import services

    person = services.create_person(
        by=staff_a,
        role=Role.JURY,
        first_name="Anne",
        last_name="Roux",
        email="anne.roux@example.org",
        centres=[centre_a],
    )
    path = _invitation_path(person)
    html = client.get(path).content.decode()
    assert "Votre identifiant :" in html and "anne.roux" in html
    response = client.post(
        path, {"new_password1": "Jury-Paritaire-2026", "new_password2": "Jury-Paritaire-2026"}, follow=True
    )
    assert "Votre mot de passe est enregistré" in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("login")
    # The link is used up.
    assert "lien d'invitation n'est plus valide" in client.get(path).content.decode()
    response = client.post(
        reverse("login"), {"username": "Anne.Roux@example.org", "password": "Jury-Paritaire-2026"}
    )
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(person.pk)


def test_invitation_form_errors_are_french_and_keep_the_link(client, staff_a, centre_a):
    from people import services

    person = services.create_person(
        by=staff_a,
        role=Role.EVALUATOR,
        first_name="Anne",
        last_name="Roux",
        email="a@example.org",
        centres=[centre_a],
    )
    path = _invitation_path(person)
    response = client.post(path, {"new_password1": "Jury-Paritaire-2026", "new_password2": "autre"})
    assert "ne sont pas identiques" in response.content.decode()
    person.refresh_from_db()
    assert not person.has_usable_password()
    assert "Choisir mon mot de passe" in client.get(path).content.decode()


def test_navigation_has_personnes_for_staff_only(client, staff_a, centre_a):
    client.force_login(staff_a)
    assert reverse("people:list") in client.get(reverse("home")).content.decode()
    evaluator = EvaluatorFactory(centres=[centre_a])
    client.force_login(evaluator)
    assert reverse("people:list") not in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("extra", [0, 15])
def test_list_queries_do_not_grow_with_the_people(
    client, staff_a, centre_a, django_assert_max_num_queries, extra
):
    """The centres of each person are prefetched: the same number of queries for 2 or 17 rows."""
    EvaluatorFactory(centres=[centre_a])
    for _ in range(extra):
        EvaluatorFactory(centres=[centre_a])
    client.force_login(staff_a)
    client.get(reverse("people:list"))  # warm the session and per-process caches
    with django_assert_max_num_queries(8):
        response = client.get(reverse("people:list"))
    assert response.status_code == 200


def test_a_deactivated_person_is_logged_out_at_his_next_request(client, staff_a, centre_a):
    from django.test import Client

    person = EvaluatorFactory(centres=[centre_a])
    own = Client()
    own.force_login(person)
    assert own.get(reverse("home")).status_code == 200
    client.force_login(staff_a)
    client.post(reverse("people:deactivate", args=[person.pk]))
    response = own.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_an_account_without_a_name_is_listed_by_its_login(client, staff_a, centre_a):
    """A link needs a text (axe « link-name »): an account created without first or last name (the
    admin, an import) shows its login in « Personnes »."""
    nameless = UserFactory(username="sans-nom-42", first_name="", last_name="", role=Role.STAFF)
    nameless.centres.add(centre_a)
    client.force_login(staff_a)
    html = client.get(reverse("people:list")).content.decode()
    assert f'<a href="{reverse("people:detail", args=[nameless.pk])}">sans-nom-42</a>' in html
