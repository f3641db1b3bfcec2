"""Logging in with each demo role, the home page of each, and the accessibility of both (real browser)."""

import re

import pytest
from django.urls import NoReverseMatch, reverse

from core.demo import DEMO_ACCOUNTS
from core.navigation import NAVIGATION

from .helpers import TABLET, login, logout, scan, screenshot

pytestmark = pytest.mark.browser

# One account per role (admin is the superuser seen as staff of every centre).
ROLE_ACCOUNTS = ["admin", "staff-a", "evaluator-a", "tutor-a", "jury-a"]
ENGLISH_LEFTOVERS = re.compile(
    r"\b(Password|Username|Log ?in|Log ?out|Sign ?in|Submit|Cancel|Forbidden|Not Found)\b"
)


def expected_menu(username):
    role = next(account[1] for account in DEMO_ACCOUNTS if account[0] == username)
    if username == "admin":
        role = "staff"
    labels = []
    for label, url_name, roles in NAVIGATION:
        if role not in roles:
            continue
        try:
            reverse(url_name)
        except NoReverseMatch:
            continue
        labels.append(str(label))
    return labels


def test_anonymous_visitor_gets_a_french_accessible_login_page_and_clear_errors(page, demo):
    page.goto("/")
    page.wait_for_url("**/compte/connexion/?next=/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "Connexion"
    assert not ENGLISH_LEFTOVERS.search(page.locator("body").inner_text())
    # Landmarks a screen-reader user jumps between.
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("banner").count() == 1
    scan(page, "00-connexion")

    page.get_by_label("Identifiant").fill("staff-a")
    page.get_by_label("Mot de passe").fill("mauvais-mot-de-passe")
    page.get_by_role("button", name="Se connecter").click()
    alert = page.get_by_role("alert")
    assert "mot de passe" in alert.inner_text().lower()
    assert page.get_by_label("Identifiant").input_value() == "staff-a"
    assert not ENGLISH_LEFTOVERS.search(page.locator("body").inner_text())
    scan(page, "00-connexion-erreur")


def test_each_role_logs_in_sees_its_own_menu_and_logs_out(new_page, demo):
    # One test for the five roles: the demo data is seeded once (each test empties the database).
    for username in ROLE_ACCOUNTS:
        page = login(new_page(), username)
        assert page.get_by_role("heading", level=1).inner_text() == "Tableau de bord", username
        user = demo["users"][username]
        assert user.get_full_name() in page.get_by_role("banner").inner_text()
        menu = page.get_by_role("navigation", name="Navigation principale")
        links = [text.strip() for text in menu.locator("ul.navbar-nav.me-auto a").all_inner_texts()]
        assert links == expected_menu(username), username
        assert not ENGLISH_LEFTOVERS.search(page.locator("body").inner_text()), username
        scan(page, f"01-accueil-{username}")
        logout(page)
        assert page.get_by_role("heading", level=1).inner_text() == "Connexion"
        # The session is really gone: the home page sends back to the login form.
        page.goto("/")
        page.wait_for_url("**/compte/connexion/**")
        page.context.close()


def test_keyboard_user_sees_the_focus_and_tablet_user_opens_the_menu(new_page, demo):
    page = login(new_page(), "staff-a")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box and box["width"] > 10 and box["height"] > 10, "le lien d'évitement doit apparaître au focus"
    outline = skip.evaluate(
        "el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
    )
    assert not outline.startswith("none"), outline
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "contenu"
    # Every following control shows a focus ring.
    for _ in range(4):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => { const e = document.activeElement, s = getComputedStyle(e);"
            " return [s.outlineStyle, s.outlineWidth, e.outerHTML.slice(0, 120)]; }"
        )
        assert style[0] != "none" and style[1] != "0px", style

    page.context.close()

    page = login(new_page(viewport=TABLET), "staff-a")
    menu_button = page.get_by_role("button", name="Afficher la navigation")
    assert menu_button.is_visible()
    account = page.locator("#menu-compte")
    assert not account.is_visible()
    menu_button.click()
    account.wait_for(state="visible")
    assert menu_button.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("link", name="Candidats", exact=True).is_visible()
    account.click()
    page.get_by_role("button", name="Se déconnecter").wait_for(state="visible")
    screenshot(page, "01-accueil-tablette-menu", full_page=False)
