"""base.html's constant parts rendered once per process ({% once %}, {% main_menu %}): same page as
before, nothing of one request in another's page, one menu entry current, the language in the key."""

import re

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from core.models import Role
from core.navigation import active_url, entries_for_role
from tests.core.factories import CentreFactory, UserFactory


def render(source, **context):
    return Template("{% load chrome i18n %}" + source).render(Context(context))


def test_once_renders_its_content_once_and_reuses_it():
    template = Template("{% load chrome %}{% once %}{{ counter.next }}{% endonce %}")
    # The content sees no page variable: what it would render for one request cannot leak to another.
    assert template.render(Context({"counter": {"next": "secret of request 1"}})) == ""
    keyed = Template("{% load chrome %}{% once n=n %}[{{ n }}]{% endonce %}")
    assert keyed.render(Context({"n": 1})) == "[1]"
    assert keyed.render(Context({"n": 2})) == "[2]"
    node = next(n for n in keyed.nodelist if n.__class__.__name__ == "OnceNode")
    node.nodelist = Template("changed").nodelist  # a second rendering would show this
    assert keyed.render(Context({"n": 1})) == "[1]"
    assert keyed.render(Context({"n": 3})) == "changed"


def test_once_is_kept_per_language():
    template = Template(
        "{% load chrome i18n %}{% once %}{% get_current_language as language %}{{ language }}{% endonce %}"
    )
    with translation.override("fr"):
        assert template.render(Context()) == "fr"
    with translation.override("en"):
        assert template.render(Context()) == "en"


def test_once_refuses_a_block_and_positional_arguments():
    with pytest.raises(TemplateSyntaxError):
        Template("{% load chrome %}{% once %}{% block b %}x{% endblock %}{% endonce %}")
    with pytest.raises(TemplateSyntaxError):
        Template("{% load chrome %}{% once user %}x{% endonce %}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/", "Tableau de bord"),
        ("/candidats/", "Candidats"),
        ("/candidats/12/", "Candidats"),
        # The most specific entry only: one aria-current, not « Candidats » too.
        ("/candidats/entreprises/", "Entreprises"),
        ("/statistiques/", "Statistiques"),
        ("/personnes/3/", "Personnes"),
        ("/messages/", None),
    ],
)
def test_main_menu_marks_the_current_entry_only(path, current):
    user = UserFactory(role=Role.STAFF)
    request = RequestFactory().get(path)
    html = render("{% main_menu %}", user=user, request=request)
    marked = re.findall(r'aria-current="page">([^<]+)<', html)
    assert marked == ([current] if current else [])
    assert html.count("<li") == len(entries_for_role(Role.STAFF)) == 10


@pytest.mark.django_db
def test_main_menu_per_role_and_empty_for_anonymous():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    tutor_menu = render("{% main_menu %}", user=UserFactory(role=Role.TUTOR), request=request)
    assert reverse("evaluations:opinions_todo") in tutor_menu
    assert reverse("candidates:list") not in tutor_menu
    superuser_menu = render(
        "{% main_menu %}", user=UserFactory(role=Role.TUTOR, is_superuser=True), request=request
    )
    assert reverse("candidates:list") in superuser_menu  # a superuser is national staff
    assert render("{% main_menu %}", user=AnonymousUser(), request=request) == ""


def test_active_url_prefers_the_longest_match():
    entries = (("A", "/"), ("B", "/candidats/"), ("C", "/candidats/entreprises/"))
    assert active_url(entries, "/candidats/entreprises/3/") == "/candidats/entreprises/"
    assert active_url(entries, "/candidats/3/") == "/candidats/"
    assert active_url(entries, "/") == "/"
    assert active_url(entries, "/ailleurs/") is None


@pytest.mark.django_db
def test_page_shows_each_users_own_name_role_and_csrf_token(client):
    """Two users one after the other: the cached parts are shared, the personal ones are not."""
    centre = CentreFactory()
    staff = UserFactory(role=Role.STAFF, first_name="Alice", last_name="Martin", centres=[centre])
    jury = UserFactory(role=Role.JURY, first_name="Bruno", last_name="Petit", centres=[centre])
    pages = {}
    for user in (staff, jury, staff):
        client.force_login(user)
        pages.setdefault(user.username, []).append(client.get(reverse("core:notifications")).content.decode())
        client.logout()
    staff_html, jury_html = pages[staff.username][0], pages[jury.username][0]
    assert "Alice Martin" in staff_html and "Alice Martin" not in jury_html
    assert "Bruno Petit" in jury_html and "Bruno Petit" not in staff_html
    assert "Personnel du centre" in staff_html and "Membre de jury" in jury_html
    assert reverse("candidates:list") in staff_html and reverse("candidates:list") not in jury_html
    tokens = [
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        for html in (staff_html, jury_html, pages[staff.username][1])
    ]
    assert len(set(tokens)) == 3  # each response its own (masked) token
    # Everything the page shows in the chrome is there, in French, as before.
    for text in (
        "<title>Mes messages · Certification CQPM</title>",
        'href="/messages/">Mes messages</a>',
        'action="/compte/deconnexion/"',
        ">Se déconnecter</button>",
        'aria-label="Fil d\'Ariane"',
        '<a href="/">Accueil</a>',
        "Certification CQPM — UIMM, centres de certification territoriaux",
        'data-error-summary-title="Le formulaire contient des erreurs.',
        'hx-headers=\'{"X-CSRFToken": "',
        "/static/js/app.js",
    ):
        assert text in staff_html, text


@pytest.mark.django_db
def test_anonymous_page_has_no_menu_nor_home_breadcrumb(client):
    html = client.get(reverse("password_reset")).content.decode()
    assert "nav-principale" not in html and "account-menu" not in html
    assert '<a href="/">Accueil</a>' not in html
    assert 'class="navbar-brand" href="/">Certification CQPM</a>' in html


def test_a_repeated_message_shows_once(rf):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message

    from core.templatetags.chrome import unique_messages

    messages = [
        Message(constants.ERROR, "La délibération est fixée au jeudi 10 décembre 2026."),
        Message(constants.ERROR, "La délibération est fixée au jeudi 10 décembre 2026."),
        Message(constants.SUCCESS, "La délibération est fixée au jeudi 10 décembre 2026."),
        Message(constants.INFO, "Autre"),
    ]
    assert [(m.level, m.message) for m in unique_messages(messages)] == [
        (constants.ERROR, "La délibération est fixée au jeudi 10 décembre 2026."),
        (constants.SUCCESS, "La délibération est fixée au jeudi 10 décembre 2026."),
        (constants.INFO, "Autre"),
    ]


def test_base_html_once_blocks_hold_whole_tags():
    """Issue 21: no {% once %} block of base.html starts or ends in the middle of an HTML tag."""
    from pathlib import Path

    from django.conf import settings

    source = Path(settings.BASE_DIR, "templates", "base.html").read_text()
    blocks = re.findall(r"{% once[^%]*%}(.*?){% endonce %}", source, flags=re.S)
    assert len(blocks) >= 5
    for block in blocks:
        text = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "", block, flags=re.S)
        inside = False
        for char in text:
            if char == "<":
                assert not inside, block
                inside = True
            elif char == ">":
                assert inside, block  # a '>' closing a tag opened before the block
                inside = False
        assert not inside, block  # a tag left open at the end of the block
