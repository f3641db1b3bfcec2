"""The shared layout seen in a browser: error pages with a way back, the form error summary, the favicon."""

import pytest

from .helpers import login, scan

pytestmark = pytest.mark.browser


def test_unknown_page_is_a_french_404_with_a_way_back_and_a_favicon(page, demo):
    login(page, "evaluator-a")
    response = page.goto("/cette-page-n-existe-pas/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Page introuvable"
    assert "Not Found" not in page.content()
    scan(page, "90-erreur-404")
    page.get_by_role("link", name="Retour au tableau de bord").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Tableau de bord"
    # Every page names a favicon the app serves (no 404 in the server log for each page).
    href = page.locator("link[rel=icon]").get_attribute("href")
    icon = page.request.get(href)
    assert icon.status == 200
    assert "svg" in icon.headers["content-type"]


def test_invalid_form_gets_an_error_summary_that_leads_to_the_field(page, demo):
    page.goto("/compte/reinitialisation/")
    email = page.get_by_label("Adresse e-mail ou identifiant")
    email.fill("   ")  # blank once stripped: the server answers « Ce champ est obligatoire »
    # Bypass the browser's own checks so the server-side validation answers, as for any field.
    page.locator("form").evaluate("form => form.setAttribute('novalidate', '')")
    page.get_by_role("button", name="Envoyer le lien").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert summary.evaluate("el => el === document.activeElement"), (
        "le résumé des erreurs doit recevoir le focus"
    )
    assert summary.get_attribute("role") == "alert"
    link = summary.get_by_role("link")
    assert link.count() == 1
    assert link.inner_text().startswith("Adresse e-mail ou identifiant")
    scan(page, "90-resume-erreurs")
    link.click()
    assert page.evaluate("() => document.activeElement.name") == "email"
