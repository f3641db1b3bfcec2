"""Steps of the journeys, one function per thing a person does, written with roles and French labels."""

import re
import unicodedata
from datetime import timedelta

from django.utils import timezone

from .helpers import accept_confirmations, scan

TODAY = timezone.localdate


def menu(page, label):
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name=label, exact=True
    ).click()
    page.wait_for_load_state()


def success_message(page):
    return page.locator(".messages .alert-success").inner_text()


def register_candidate(page, *, birth_name, first_names, pathway, tutor=None, shots=True):
    """Staff: « Candidats » → « Inscrire un candidat » → the registration form. Returns (pk, reference)."""
    menu(page, "Candidats")
    if shots:
        scan(page, "10-candidats-liste")
    page.get_by_role("link", name="Inscrire un candidat").first.click()  # twice on an empty list
    if shots:
        scan(page, "11-candidat-inscription")
    page.get_by_label("Nom de naissance").fill(birth_name)
    page.get_by_label("Prénoms").fill(first_names)
    page.get_by_label("Sexe").select_option(label="Femme")
    page.get_by_label("Date de naissance").fill("1996-05-14")
    page.get_by_label("Lieu de naissance").fill("Metz")
    ascii_name = (
        unicodedata.normalize("NFKD", f"{first_names}.{birth_name}").encode("ascii", "ignore").decode()
    )
    page.get_by_label("Adresse électronique").fill(f"{ascii_name.lower()}@example.org")
    page.get_by_label("Parcours").select_option(label=pathway)
    if tutor:
        page.get_by_label("Tuteur").select_option(label=tutor)
    certification = page.get_by_label("CQPM")
    certification.select_option(index=1)
    page.get_by_role("button", name="Inscrire le candidat").click()
    page.wait_for_url(re.compile(r"/candidats/\d+/$"))
    message = success_message(page)
    reference = re.search(r"[A-Z]-\d{4}-\d{5}", message).group(0)
    assert reference in page.get_by_role("heading", level=1).inner_text()
    pk = int(re.search(r"/candidats/(\d+)/", page.url).group(1))
    return pk, reference


def build_and_validate_dossier(page, *, company_opinion, shots=True):
    """Staff, on the candidate's page: choose the modalities, then validate (irreversible: confirmation)."""
    page.get_by_role("link", name="Modifier le dossier").click()
    for box in page.get_by_label("Observation en situation de travail").all():
        box.check()
    opinion = page.get_by_label("L'avis de l'entreprise (tuteur) est recueilli")
    if company_opinion:
        opinion.check()
    else:
        assert opinion.is_disabled(), "en VAE, l'avis de l'entreprise ne doit pas pouvoir être demandé"
    if shots:
        scan(page, "13-dossier-evaluation")
    page.get_by_role("button", name="Enregistrer le dossier").click()
    assert "Dossier d'évaluation enregistré" in success_message(page)
    if shots:
        scan(page, "12-candidat-fiche")
    asked = accept_confirmations(page)
    page.get_by_role("button", name="Valider le dossier").click()
    page.wait_for_load_state()
    assert asked and "ne pourra plus être modifié" in asked[-1]
    assert "Dossier validé" in success_message(page)


def plan_evaluation_session(page, *, commission, place, days_ahead=0, shots=True):
    """Staff plan a session, today by default: its members score it today (no scoring before the
    session's day) and the jury planned today may then take its candidates."""
    menu(page, "Sessions d'évaluation")
    if shots:
        scan(page, "14-sessions-evaluation")
    page.get_by_role("link", name="Planifier une session").click()
    page.get_by_label("Commission").select_option(label=commission)
    page.get_by_label("Date").fill((TODAY() + timedelta(days=days_ahead)).isoformat())
    page.get_by_label("Lieu").fill(place)
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r"/evaluations/sessions/\d+/$"))
    return int(re.search(r"/sessions/(\d+)/", page.url).group(1))


def convene(page, *, reference, time_slot, evaluators):
    """Staff, on the evaluation session: convene the candidate and assign the given commission members."""
    page.get_by_role("link", name="Convoquer un candidat").click()
    select = page.get_by_label("Candidat")
    option = select.locator("option", has_text=reference)
    select.select_option(value=option.get_attribute("value"))
    page.get_by_label("Horaire de passage").fill(time_slot)
    for box in page.locator("input[name=evaluators]").all():
        name = page.locator(f"label[for='{box.get_attribute('id')}']").inner_text().strip()
        box.set_checked(name in evaluators)
    page.get_by_role("button", name="Convoquer et envoyer la convocation").click()
    page.wait_for_url(re.compile(r"/evaluations/sessions/\d+/$"))


def scoring_url(candidate_pk, competency_number):
    """The scoring page takes the competency's primary key, not its number (ids differ between databases)."""
    from candidates.models import Candidate
    from referential.models import Competency

    certification_id = Candidate.objects.values_list("certification_id", flat=True).get(pk=candidate_pk)
    competency_pk = Competency.objects.values_list("pk", flat=True).get(
        certification_id=certification_id, number=competency_number
    )
    return f"/evaluations/notation/{candidate_pk}/{competency_pk}/"


def score_sheet(
    page, *, candidate_pk, competency_number, judgement="Acquis", conclusion="Acquise", mouse=True
):
    """Evaluator: give every criterion the same judgement, conclude and submit.

    mouse=True clicks each choice as a person does; mouse=False clicks the same labels from the page's own
    script (same events, same autosave and submission, without a round trip per criterion: faster).
    """
    page.goto(scoring_url(candidate_pk, competency_number))
    rows = page.locator("[data-criterion]")
    if mouse:
        for index in range(rows.count()):
            rows.nth(index).locator("label.btn", has_text=re.compile(f"^{judgement}$")).click()
    else:
        page.evaluate(
            """(choice) => document.querySelectorAll('[data-criterion]').forEach((row) => {
                Array.from(row.querySelectorAll('label.btn')).find((l) => l.textContent.trim() === choice).click();
            })""",
            judgement,
        )
    assert page.locator("[data-criterion] input:checked").count() == rows.count()
    page.locator("label[for^=conclusion-]", has_text=re.compile(f"^{conclusion}$")).click()
    asked = accept_confirmations(page)
    page.get_by_role("button", name="Soumettre la fiche").click()
    # then on to the next competency to score (or the locked sheet after the last one)
    page.get_by_text("Fiche soumise : elle est désormais verrouillée").wait_for()
    assert asked and asked[-1].startswith("Soumettre la fiche ?")


def plan_deliberation(page, *, references, place, shots=True):
    """Staff: plan a deliberation session today, present the candidates, record attendance and notices."""
    menu(page, "Délibérations")
    if shots:
        scan(page, "40-deliberations")
    page.get_by_role("link", name="Planifier une session").click()
    centre = page.get_by_label("Centre")
    if centre.is_visible():
        centre.select_option(index=1)
    page.get_by_label("CQPM").select_option(index=1)
    page.get_by_label("Jury").select_option(index=1)
    page.get_by_label("Date").fill(TODAY().isoformat())
    page.get_by_label("Lieu").fill(place)
    page.locator("main form [type=submit]").click()
    page.wait_for_url(re.compile(r"/deliberations/sessions/\d+/$"))
    session_pk = int(re.search(r"/sessions/(\d+)/", page.url).group(1))
    page.get_by_text("Ajouter des candidats").click()
    for reference in references:
        page.get_by_role("checkbox", name=re.compile(reference)).check()
    page.get_by_role("button", name="Ajouter à la session").click()
    page.wait_for_load_state()
    page.get_by_text("Enregistrer les présences", exact=True).first.click()
    for box in page.locator("input[name=present]").all():
        box.check()
    page.get_by_role("button", name="Enregistrer les présences").click()
    page.wait_for_load_state()
    page.locator("summary", has_text="Convocations").click()
    page.get_by_label("Organisations syndicales sollicitées le").fill(
        (TODAY() - timedelta(days=30)).isoformat()
    )
    page.get_by_label("Membres salariés convoqués le").fill((TODAY() - timedelta(days=20)).isoformat())
    page.get_by_role("button", name="Enregistrer les convocations").click()
    page.wait_for_load_state()
    return session_pk


def decide_following_the_proposals(page, *, session_pk, reference):
    """Jury: open the candidate's decision page from the board and record the proposed decisions."""
    page.goto(f"/deliberations/sessions/{session_pk}/")
    row = page.locator("tr", has_text=reference)
    assert "Bloquant" not in row.inner_text(), row.inner_text()
    row.get_by_role("link", name="Décider").click()
    asked = accept_confirmations(page)
    page.get_by_role("button", name="Enregistrer les décisions").click()
    assert f"Décisions enregistrées pour le candidat {reference}" in success_message(page)
    assert asked[-1].startswith("Enregistrer ces décisions ?")
    return page.locator("tr", has_text=reference).inner_text()


def wait_for_document_row(page, kind_label, reference, timeout=90):
    """The candidate's document row of that kind once it is ready to download. A pending row refreshes
    itself (htmx, every 2 s) and Playwright waits for its download link; the page is reloaded only if
    the link has not come after a while (a row created after the page was shown, or a stale one)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    rows = page.locator("tbody tr", has_text=kind_label).filter(has_text=reference)
    ready = rows.filter(has=page.get_by_role("link", name="Télécharger")).first
    for _ in range(max(1, timeout // 15)):
        try:
            ready.wait_for(timeout=15_000)
            return ready
        except PlaywrightTimeout:
            page.reload()
    raise AssertionError(f"« {kind_label} » de {reference} non produit en {timeout} s")


def verify_publicly(page, number):
    """Anyone, without an account: the public verification page recognises the document number."""
    page.goto("/deliberations/verifier/")
    page.get_by_label("Numéro du document").fill(number)
    page.get_by_role("button", name="Vérifier").click()
    result = page.get_by_role("status")
    text = result.inner_text()
    assert "Document authentique" in text and number in text, text
    return text
