"""The whole certification journey in a real browser, across the four roles and the public verification.

staff registers a candidate and builds the dossier → invites the tutor → the tutor opens the emailed link
and gives the opinion → the evaluators score every criterion (a draft survives a reload; one sheet done with
the keyboard only) → staff plan the jury → the jury checks the anomalies, decides and closes → the PV is
rendered (by a real Celery worker in CI) and downloaded → the public page verifies the certificate number.
"""

import re

import pytest

from core.demo import DEMO_PASSWORD
from deliberations.models import GeneratedDocument

from . import steps
from .helpers import (
    CLOSING_TIMEOUT,
    TABLET,
    StepTimer,
    accept_confirmations,
    login,
    pdf_pages_to_png,
    scan,
    screenshot,
    wait_for_email,
)

pytestmark = [pytest.mark.browser, pytest.mark.worker]

EVALUATORS = ("Jean Dupont", "Paul Henry")  # evaluator-a (president) and evaluateur-a2, commission Nancy 1


def competencies_count(page):
    return page.locator("input[value=favourable]").count()


def focused(page):
    return page.evaluate(
        "() => { const e = document.activeElement; return {tag: e.tagName, type: e.type || '', name: e.name || '',"
        " value: e.value || '', id: e.id || '', text: (e.innerText || '').trim()}; }"
    )


def label_focus_ring(page):
    """The outline drawn on the label of the focused .btn-check radio (the input itself is hidden)."""
    return page.evaluate(
        "() => { const e = document.activeElement; const l = e.id && document.querySelector(`label[for='${e.id}']`);"
        " const s = getComputedStyle(l || e); return [s.outlineStyle, s.outlineWidth]; }"
    )


def autosave_of_the_conclusion(response):
    """The autosave request that carries the conclusion (the last change of the grid)."""
    request = response.request
    return (
        "/brouillon/" in response.url
        and request.method == "POST"
        and "conclusion=" in (request.post_data or "")
    )


def wait_for_autosave(page):
    """Until the last change is saved: no autosave in flight, and the status says so (no fixed sleep)."""
    page.wait_for_function(
        "() => { const s = document.querySelector('#save-status');"
        " return !document.querySelector('#scoring-form.htmx-request') && s && s.dataset.state === 'saved'"
        " && !s.innerText.includes('sans appréciation'); }",
        timeout=10_000,
    )


def score_with_keyboard_only(page, *, candidate_pk):
    """Evaluator: C1 completed without the mouse — Tab between criteria, key 1 = « Acquis »."""
    page.goto(steps.scoring_url(candidate_pk, 1))
    criteria = page.locator("[data-criterion]").count()
    assert criteria > 0
    for _ in range(80):  # from the top of the page to the first criterion
        page.keyboard.press("Tab")
        now = focused(page)
        if now["type"] == "radio" and now["name"].startswith("j-"):
            break
    else:
        pytest.fail("le premier critère n'est pas atteignable au clavier")
    ring = label_focus_ring(page)
    assert ring[0] != "none" and ring[1] != "0px", f"focus invisible sur le critère : {ring}"
    for index in range(criteria):
        now = focused(page)
        assert now["type"] == "radio" and now["name"].startswith("j-"), (index, now)
        page.keyboard.press("1")
        page.keyboard.press("Tab")  # the criterion's optional observation
        assert focused(page)["tag"] == "TEXTAREA"
        page.keyboard.press("Tab")  # next criterion, or the conclusion after the last one
    now = focused(page)
    assert now["name"] == "conclusion", now
    # The conclusion's autosave (150 ms after the change) is awaited by its request, not by a sleep.
    with page.expect_response(autosave_of_the_conclusion, timeout=10_000):
        page.keyboard.press("Space")  # a radio group without choice focuses its first option: « Acquise »
    assert page.locator("#conclusion-acquired").is_checked()
    wait_for_autosave(page)
    # The draft survives a reload: every judgement and the conclusion come back from the server.
    page.reload()
    assert page.locator("[data-criterion] input[value=acquired]:checked").count() == criteria
    assert page.locator("#conclusion-acquired").is_checked()
    scan(page, "31-notation-brouillon")
    asked = accept_confirmations(page)
    submit = page.get_by_role("button", name="Soumettre la fiche")
    for _ in range(6):  # backwards from the end of the page: PDF links, then the submit button
        page.keyboard.press("Shift+Tab")
        if submit.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("le bouton « Soumettre la fiche » n'est pas atteignable au clavier")
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert ring != "none", "focus invisible sur « Soumettre la fiche »"
    page.keyboard.press("Enter")
    # submitted: the page goes on to the next competency to score (C2), keyboard focus at its top
    page.get_by_text(
        "Fiche soumise : elle est désormais verrouillée. Compétence suivante à noter : C2."
    ).wait_for()
    assert asked and asked[-1].startswith("Soumettre la fiche ?")


def test_full_journey_from_registration_to_verified_certificate(new_page, demo, task_worker):
    step = StepTimer("parcours-complet")
    staff = login(new_page(), "staff-a")

    # 1. Staff register the candidate and build the evaluation dossier.
    candidate_pk, reference = steps.register_candidate(
        staff,
        birth_name="Marchand",
        first_names="Léa",
        pathway="Salarié",
        tutor="Marc Girard — Ateliers Mécaniques de Lorraine",
    )
    steps.build_and_validate_dossier(staff, company_opinion=True)
    step("inscription et dossier")

    # 2. Staff plan the evaluation session, convene the candidate with two evaluators, invite the tutor.
    steps.plan_evaluation_session(staff, commission="Commission RH — Nancy 1", place="Atelier pédagogique")
    steps.convene(staff, reference=reference, time_slot="10:00", evaluators=EVALUATORS)
    scan(staff, "15-session-evaluation")
    staff.goto(f"/evaluations/candidats/{candidate_pk}/")
    scan(staff, "16-evaluation-candidat")
    staff.get_by_role("button", name="Inviter le tuteur").click()
    assert "Invitation envoyée" in steps.success_message(staff)
    step("session, convocation, invitation du tuteur")

    # 3. The tutor opens the emailed link: he already has an account, so the link leads to the login
    # page (it never logs into an account that has a password, SECURITY.md), then to his opinion.
    body = wait_for_email(task_worker, to="tutor-a@demo.cqpm.local", subject_contains="Avis de l'entreprise")
    link = re.search(r"https?://\S+?(/evaluations/invitation/[\w-]+/)", body).group(1)
    tutor = new_page()
    tutor.goto(link)
    tutor.wait_for_url("**/compte/connexion/**")
    scan(tutor, "20-invitation-tuteur")
    tutor.get_by_label("Identifiant").fill("tutor-a")
    tutor.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    tutor.get_by_role("button", name="Se connecter").click()
    tutor.wait_for_url(f"**/evaluations/avis/{candidate_pk}/")
    for choice in tutor.locator("label.btn", has_text=re.compile("^Favorable$")).all():
        choice.click()
    assert tutor.locator("input[value=favourable]:checked").count() == competencies_count(tutor)
    scan(tutor, "21-avis-entreprise")
    asked = accept_confirmations(tutor)
    tutor.get_by_role("button", name="Signer l'avis").click()
    tutor.wait_for_url("**/evaluations/avis/")
    assert asked and "ne pourra plus être modifié" in asked[-1]
    assert "Avis signé" in steps.success_message(tutor)
    scan(tutor, "22-avis-a-donner")
    step("avis du tuteur")

    # 4. The evaluators score every criterion of every competency.
    evaluator = login(new_page(), "evaluator-a")
    steps.menu(evaluator, "À évaluer")
    assert reference in evaluator.locator("main").inner_text()
    scan(evaluator, "30-a-evaluer")
    score_with_keyboard_only(evaluator, candidate_pk=candidate_pk)
    step("C1 au clavier (brouillon rechargé, soumission)")
    tablet = login(new_page(viewport=TABLET, has_touch=True), "evaluator-a")
    tablet.goto(steps.scoring_url(candidate_pk, 2))
    scan(tablet, "32-notation-tablette")
    tablet.context.close()
    step("notation sur tablette")
    competencies = evaluator.locator("nav[aria-label='Compétences du candidat'] a").count()
    for number in range(2, competencies + 1):
        steps.score_sheet(evaluator, candidate_pk=candidate_pk, competency_number=number, mouse=number == 2)
    step("C2..Cn évaluateur 1")
    second = login(new_page(), "evaluateur-a2")
    for number in range(1, competencies + 1):
        steps.score_sheet(second, candidate_pk=candidate_pk, competency_number=number, mouse=False)
    scan(second, "33-notation-soumise")
    step("C1..Cn évaluateur 2")

    # Unanimous members: the commission's proposals are recorded, the candidate awaits the jury.
    staff.goto(f"/candidats/{candidate_pk}/")
    assert "En attente de délibération" in staff.locator("main").inner_text()

    # 5. Staff plan the jury and present the candidate.
    session_pk = steps.plan_deliberation(
        staff, references=[reference], place="Salle du conseil, UIMM Lorraine"
    )
    scan(staff, "41-deliberation-preparee")
    step("préparation du jury")

    # 6. The jury president checks the anomalies, decides and closes.
    jury = login(new_page(), "jury-a")
    steps.menu(jury, "Délibérations")
    jury.goto(f"/deliberations/sessions/{session_pk}/")
    row = jury.locator("tr", has_text=reference)
    assert "Bloquant" not in row.inner_text(), row.inner_text()
    scan(jury, "50-deliberation-jury")
    row.get_by_role("link", name="Décider").click()
    scan(jury, "51-decision-jury")
    decision_page = jury.locator("main").inner_text()
    assert not re.search(r"\b(acquired|not_acquired|favourable|reserved|unfavourable)\b", decision_page)
    assert "Favorable" in decision_page and "Acquise" in decision_page
    asked = accept_confirmations(jury)
    jury.get_by_role("button", name="Enregistrer les décisions").click()
    assert f"Décisions enregistrées pour le candidat {reference}" in steps.success_message(jury)
    assert asked[-1].startswith("Enregistrer ces décisions ?")
    assert "CQPM attribué" in jury.locator("tr", has_text=reference).inner_text()
    jury.get_by_role("button", name="Clore la délibération").click(timeout=CLOSING_TIMEOUT)
    jury.wait_for_url(f"**/deliberations/sessions/{session_pk}/documents/", timeout=CLOSING_TIMEOUT)
    step("décision et clôture")
    assert asked and asked[-1].startswith("Clore la délibération ?")

    # 7. The PV is produced by the worker; the page polls until it is ready; the jury downloads it.
    pv_row = jury.locator("tbody tr", has_text="Procès-verbal").first
    pv_row.get_by_role("link", name="Télécharger").wait_for(timeout=90_000)
    scan(jury, "52-documents-deliberation")
    with jury.expect_download() as download_info:
        pv_row.get_by_role("link", name="Télécharger").click()
    pv = download_info.value
    assert pv.suggested_filename.endswith(".pdf")
    pdf_pages_to_png(pv.path(), "53-proces-verbal")
    # The candidate's documents are queued after the PV: the page lists them as they are created.
    cert_row = steps.wait_for_document_row(jury, "Parchemin CQPM", reference)
    number = cert_row.locator("code").first.inner_text().strip()
    with jury.expect_download() as download_info:
        cert_row.get_by_role("link", name="Télécharger").click()
    pdf_pages_to_png(download_info.value.path(), "54-parchemin")
    step("documents produits et téléchargés")

    # 8. Anyone can check the certificate number on the public page (no login).
    public = new_page()
    steps.verify_publicly(public, number)
    certificate = GeneratedDocument.objects.get(number=number)
    assert (certificate.kind, certificate.candidate_id, certificate.session_id) == (
        "certificate",
        candidate_pk,
        session_pk,
    )
    scan(public, "60-verification-publique")
    step("vérification publique")

    # The candidate is deliberated; the whole journey left readable traces for staff.
    staff.goto(f"/candidats/{candidate_pk}/")
    assert "Délibéré" in staff.locator("main").inner_text()
    screenshot(staff, "61-candidat-delibere")
