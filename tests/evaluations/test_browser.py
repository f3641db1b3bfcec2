"""Browser journeys of the evaluations pages (headless Chromium, see tests/e2e): the scoring grid on a
tablet with htmx autosave and the keyboard, a concurrent edit from a second device, the tutor's opinion."""

import io
import re

import pytest
from django.core.management import call_command

from evaluations.models import CompanyOpinion, CriterionJudgement, ScoringSheet
from tests.e2e.conftest import browser, live_server, new_page  # noqa: F401 - the shared browser fixtures
from tests.e2e.helpers import TABLET, accept_confirmations, login, scan

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def evaluations_demo_database(browser, django_db_setup, django_db_blocker):  # noqa: F811
    """The demo data, committed once for this module (the live server thread must see it)."""
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def transactional_db(evaluations_demo_database, django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def demo(transactional_db, live_server):  # noqa: F811
    return True


def _open_sheet_to_score(page):
    page.goto("/evaluations/a-evaluer/")
    page.get_by_role("link", name=re.compile(r"C\d+ · à noter")).first.click()
    page.wait_for_load_state()
    return page


def _wait_saved(page):
    page.locator('#save-status[data-state="saved"]').wait_for()


def test_evaluator_scores_on_a_tablet_with_autosave_keyboard_and_a_concurrent_device(new_page, demo):  # noqa: F811
    tablet = new_page(viewport=TABLET)
    login(tablet, "evaluator-a")
    scan(tablet.goto("/evaluations/a-evaluer/") and tablet, "evaluations-a-evaluer-tablette")
    _open_sheet_to_score(tablet)
    url = tablet.url
    scan(tablet, "evaluations-notation-tablette")
    # a click on a judgement autosaves the draft (htmx), the hidden version follows
    first_row = tablet.locator("[data-criterion]").first
    first_row.get_by_text("Acquis", exact=True).click()
    _wait_saved(tablet)
    version = int(tablet.locator("#id_version").input_value())
    assert version >= 2
    # keyboard: focus the second criterion's first choice, then « 2 » = non acquis
    second_row = tablet.locator("[data-criterion]").nth(1)
    second_row.locator('input[type="radio"]').first.focus()
    tablet.keyboard.press("2")
    tablet.wait_for_function(f"() => Number(document.getElementById('id_version').value) > {version}")
    _wait_saved(tablet)
    tablet.reload()
    assert tablet.locator("[data-criterion]").first.locator('input[value="acquired"]').is_checked()
    assert tablet.locator("[data-criterion]").nth(1).locator('input[value="not_acquired"]').is_checked()

    # the same evaluator on a laptop loaded the page before the tablet's next change
    laptop = new_page()
    login(laptop, "evaluator-a")
    laptop.goto(url)
    tablet.locator("[data-criterion]").nth(2).get_by_text("Non observé", exact=True).click()
    _wait_saved(tablet)
    laptop.locator("[data-criterion]").nth(2).get_by_text("Acquis", exact=True).click()
    conflict = laptop.locator('#save-status[data-state="conflict"]')
    conflict.wait_for()
    assert "modifiée entre-temps" in conflict.inner_text()
    # nothing silently overwritten: the tablet's value is the one stored
    sheet = ScoringSheet.objects.get(pk=CriterionJudgement.objects.order_by("-pk").first().sheet_id)
    assert sheet.judgements.filter(judgement="not_observed").exists()
    assert not sheet.judgements.filter(judgement="acquired").count() > 1
    # the laptop's input is still on screen; an explicit save replaces the stored sheet deliberately
    assert laptop.locator("[data-criterion]").nth(2).locator('input[value="acquired"]').is_checked()
    laptop.get_by_role("button", name="Enregistrer le brouillon").click()
    laptop.wait_for_load_state()
    assert "Brouillon enregistré" in laptop.content()
    assert sheet.judgements.filter(judgement="acquired").count() == 2
    # the browser logged the expected 409 of the refused autosave
    new_page.errors[:] = [error for error in new_page.errors if "409 (Conflict)" not in error]


def test_tutor_gives_and_signs_the_company_opinion(new_page, demo):  # noqa: F811
    page = new_page(viewport=TABLET)
    asked = accept_confirmations(page)
    login(page, "tutor-b")
    page.goto("/evaluations/avis/")
    scan(page, "evaluations-avis-a-donner")
    page.locator("a.list-group-item").first.click()
    page.wait_for_load_state()
    scan(page, "evaluations-avis-formulaire")
    for fieldset in page.locator("fieldset").all():
        fieldset.get_by_text("Favorable", exact=True).click()
    page.get_by_role("button", name="Signer l'avis").click()
    page.wait_for_load_state()
    assert asked and "Signer" in asked[0]
    assert "Avis signé" in page.content()
    assert CompanyOpinion.objects.filter(tutor__user__username="tutor-b", signed_at__isnull=False).exists()


def test_staff_session_board_and_candidate_pages(new_page, demo):  # noqa: F811
    page = new_page()
    login(page, "staff-a")
    page.goto("/evaluations/sessions/?periode=passees")
    scan(page, "evaluations-sessions")
    page.locator("table a").first.click()
    page.wait_for_load_state()
    scan(page, "evaluations-tableau-de-suivi")
    assert page.locator("text=soumise").count() > 0
