"""Issue 16's « Done when », written from its text: a pilot centre runs a session alone.

A new centre staff member (created for the test, in a centre of its own so that the demo's centres and
the other browser tests are untouched whatever the order) logs in with his e-mail address and creates,
from the « Personnes » pages, an evaluator (president of the centre's commission), a jury member
(president of its jury) and a tutor; each chooses a password through the e-mailed link and logs in with
his e-mail address. Then: registration → validated dossier → convocation to an evaluation session held
today → the tutor's link copied by the staff (« Copier le lien ») → company opinion → scoring by the
evaluator → deliberation planned today (attendance by the staff) → decisions and closing by the jury →
documents produced and downloaded, from the jury's documents page and the candidate's page. The dates
follow the rules: sessions dated today (the Paris date the code uses), nothing before its day.
The candidate's page is screenshotted at each stage (test-artifacts/pilote-*.png).
"""

import re
import uuid
from datetime import timedelta

import pytest

from . import steps
from .helpers import CLOSING_TIMEOUT, accept_confirmations, login, pdf_pages_to_png, scan, screenshot
from .test_people import _choose_password, _create, _invitation_path

pytestmark = [pytest.mark.browser, pytest.mark.worker]

# No letter in common with the generated names and logins (« pilote-<suffix> », « Paritaire<suffix> »…):
# Django's similarity validator refused « Metallurgie-Paritaire-2026 » for some random suffixes.
PASSWORD = "Zyqxwk!Vhjy#Kqzy-Wxq"


def _luhn_siret(prefix):
    """A 14-digit SIRET starting with the 13 digits of `prefix`, its last digit the Luhn key."""
    for key in range(10):
        digits = f"{prefix}{key}"
        total = 0
        for index, char in enumerate(reversed(digits)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return digits
    raise AssertionError(prefix)


@pytest.fixture
def pilot_centre(demo):
    """A centre of its own (never « A » or « B »): its staff member, a company, an evaluation commission
    and a jury whose employees' college has one member (without account). Nothing here is shared with
    the other tests, so the journey gives nothing back."""
    from candidates import services as candidate_services
    from core.models import CertificationCentre, Role, User
    from deliberations import services as deliberation_services
    from deliberations.models import College
    from evaluations import services as evaluation_services

    suffix = uuid.uuid4().hex[:6]
    taken = set(CertificationCentre.objects.values_list("code", flat=True))
    code = next(letter for letter in "PQRSTUVWXYZ" if letter not in taken)  # references read « P-2026-00001 »
    centre = CertificationCentre.objects.create(
        code=code,
        name=f"UIMM Centre pilote {suffix} — Alsace",
        legal_name="UIMM Alsace",
        address="3 rue des Forgerons",
        postcode="67000",
        city="Strasbourg",
        certifier_signatory="Odile Kieffer",
    )
    email = f"recrue.pilote-{suffix}@uimm-alsace.test"
    staff = User.objects.create_user(
        username=f"pilote-{suffix}",
        email=email,
        password=PASSWORD,
        role=Role.STAFF,
        first_name="Inès",
        last_name=f"Pilote{suffix}",
    )
    staff.centres.set([centre])
    company = candidate_services.create_company(
        centre=centre,
        by=staff,
        name=f"Forges d'Alsace {suffix}",
        siret=_luhn_siret("4210000" + str(int(suffix, 16) % 1_000_000).zfill(6)),
        city="Colmar",
    )
    commission = evaluation_services.create_commission(
        centre=centre, name=f"Commission RH — Strasbourg {suffix}", by=staff
    )
    jury = deliberation_services.create_jury(
        actor=staff, centre=centre, name=f"Jury paritaire Alsace {suffix}"
    )
    deliberation_services.add_jury_member(
        actor=staff,
        jury=jury,
        full_name="Anne Weiss",
        college=College.EMPLOYEES,
        union="CFDT",
        email=f"anne.weiss-{suffix}@syndicat.test",
    )
    return {
        "suffix": suffix,
        "centre": centre,
        "staff": staff,
        "email": email,
        "company": company,
        "commission": commission,
        "jury": jury,
    }


def _candidate_page(page, pk, name):
    page.goto(f"/candidats/{pk}/")
    scan(page, name)
    return page.locator("main").inner_text()


def _invitee(new_page, task_worker, *, email, login_name):
    """The invited person chooses a password through his e-mailed link and logs in with his address."""
    body, path = _invitation_path(task_worker, email)
    assert f"Votre identifiant : {login_name}" in body
    return _choose_password(new_page(), path, login_name=login_name, email=email, password=PASSWORD)


def _wait_for_download_link(page, row_locator, *, attempts=60):
    """Reload until the row's « Télécharger » link is there (a worker renders the documents in CI)."""
    for _ in range(attempts):
        link = row_locator().get_by_role("link", name="Télécharger")
        try:
            link.first.wait_for(timeout=3_000)
            return row_locator()
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: not ready yet, reload
            page.reload()
    raise AssertionError("document non produit")


def test_a_pilot_centre_runs_a_session_alone(new_page, pilot_centre, task_worker):
    suffix = pilot_centre["suffix"]
    commission_name = pilot_centre["commission"].name
    jury_name = pilot_centre["jury"].name

    # The new staff member logs in with his e-mail address (typed in capitals).
    staff = login(
        new_page(permissions=["clipboard-read", "clipboard-write"]), pilot_centre["email"].upper(), PASSWORD
    )
    assert staff.locator(".account-login").inner_text() == pilot_centre["staff"].username

    # « Personnes »: the evaluator (president of the commission), the jury member (president of the
    # jury, employers' college) and the tutor (new record in the centre's company).
    steps.menu(staff, "Personnes")
    evaluator_email = f"evaluateur.pilote-{suffix}@uimm-alsace.test"
    evaluator_login = _create(
        staff,
        role="Évaluateur (membre de commission d'évaluation)",
        first="Paul",
        last=f"Ajusteur{suffix}",
        email=evaluator_email,
    )
    staff.get_by_label("Commission d'évaluation").select_option(label=commission_name)
    staff.get_by_label("Qualification / domaine").fill("Ressources humaines")
    staff.get_by_label("Président(e) de la commission").check()
    staff.get_by_role("button", name="Ajouter à la commission").click()
    assert "Ajouté(e) à la commission" in staff.content()
    scan(staff, "pilote-01-personne-evaluateur")

    jury_email = f"jury.pilote-{suffix}@uimm-alsace.test"
    jury_login = _create(
        staff, role="Membre de jury", first="Lucie", last=f"Paritaire{suffix}", email=jury_email
    )
    staff.get_by_label("Jury paritaire").select_option(label=jury_name)
    staff.get_by_label(re.compile(r"^\s*Collège")).select_option(label="Collège employeurs")
    staff.get_by_label("Président(e) du jury (collège employeurs)").check()
    staff.get_by_role("button", name="Ajouter au jury").click()
    assert "Ajouté(e) au jury" in staff.content()
    scan(staff, "pilote-02-personne-jury")

    tutor_email = f"tuteur.pilote-{suffix}@forges-alsace.test"

    def company(page):
        page.get_by_label("Tuteurs : entreprise (nouvelle fiche)").select_option(
            label=pilot_centre["company"].name
        )
        page.get_by_label("Tuteurs : fonction dans l'entreprise").fill("Responsable RH")

    tutor_login = _create(
        staff,
        role="Tuteur d'entreprise",
        first="Marius",
        last=f"Tuteur{suffix}",
        email=tutor_email,
        extra=company,
    )
    scan(staff, "pilote-03-personne-tuteur")

    # Each of them chooses a password and logs in with his e-mail address.
    evaluator = _invitee(new_page, task_worker, email=evaluator_email, login_name=evaluator_login)
    jury = _invitee(new_page, task_worker, email=jury_email, login_name=jury_login)
    tutor_first = _invitee(new_page, task_worker, email=tutor_email, login_name=tutor_login)
    tutor_first.context.close()

    # Registration and the validated dossier (the company opinion is asked for).
    candidate_pk, reference = steps.register_candidate(
        staff,
        birth_name=f"Schmitt{suffix}",
        first_names="Camille",
        pathway="Salarié",
        tutor=f"Marius Tuteur{suffix} — {pilot_centre['company'].name}",
        shots=False,
    )
    text = _candidate_page(staff, candidate_pk, "pilote-10-candidat-inscrit")
    assert "Inscrit" in text
    steps.build_and_validate_dossier(staff, company_opinion=True, shots=False)
    text = _candidate_page(staff, candidate_pk, "pilote-11-candidat-dossier-valide")
    assert "Convoquer à une session" in text  # the next step, as a button

    # Convocation to an evaluation session held today (scoring opens on the session's day).
    steps.plan_evaluation_session(
        staff, commission=commission_name, place="Salle Vauban, Strasbourg", shots=False
    )
    steps.convene(staff, reference=reference, time_slot="09:30", evaluators=(f"Paul Ajusteur{suffix}",))
    text = _candidate_page(staff, candidate_pk, "pilote-12-candidat-convoque")
    assert "Convoqué" in text or "Convoquée" in text

    # « Copier le lien » without JavaScript: the answer page shows the link in a readonly field.
    no_script = login(new_page(java_script_enabled=False), pilot_centre["email"], PASSWORD)
    no_script.goto(f"/candidats/{candidate_pk}/")
    no_script.get_by_role("button", name="Copier le lien").click()
    no_script.wait_for_url(f"**/evaluations/candidats/{candidate_pk}/lien-tuteur/")
    shown = no_script.get_by_label("Lien à transmettre au tuteur")
    assert shown.get_attribute("readonly") is not None
    assert re.search(r"/evaluations/invitation/[\w-]+/$", shown.input_value())
    screenshot(no_script, "pilote-13a-lien-tuteur-sans-javascript")  # axe needs JavaScript
    no_script.context.close()
    # The same page with JavaScript (the form posted as without it): its « Copier le lien » button copies.
    staff.evaluate("() => document.querySelector('form[data-copy-link]').submit()")
    staff.wait_for_url(f"**/evaluations/candidats/{candidate_pk}/lien-tuteur/")
    staff.get_by_role("button", name="Copier le lien").click()
    staff.get_by_text("Lien copié dans le presse-papiers.").wait_for()
    assert (
        staff.evaluate("() => navigator.clipboard.readText()") == staff.locator("#tutor-link").input_value()
    )
    scan(staff, "pilote-13b-lien-tuteur-page")
    staff.goto(f"/candidats/{candidate_pk}/")

    # « Copier le lien »: the staff phone the tutor and give him his link (copied to the clipboard);
    # the link shown above stops working.
    asked = accept_confirmations(staff)
    staff.get_by_role("button", name="Copier le lien").click()
    field = staff.get_by_label("Lien à transmettre au tuteur (une seule utilisation)")
    field.wait_for()
    staff.get_by_text("Lien copié dans le presse-papiers").wait_for()
    link = field.input_value()
    assert re.search(r"/evaluations/invitation/[\w-]+/$", link), link
    assert asked and asked[-1].startswith("Créer un nouveau lien")
    assert staff.evaluate("() => navigator.clipboard.readText()") == link
    assert field.get_attribute("readonly") is not None
    screenshot(staff, "pilote-13-candidat-lien-tuteur")

    # The tutor opens the link: he has a password, so it leads to the login page, then to his opinion.
    tutor = new_page()
    tutor.goto(re.search(r"/evaluations/invitation/[\w-]+/$", link).group(0))
    tutor.wait_for_url("**/compte/connexion/**")
    tutor.get_by_label("Identifiant").fill(tutor_email)
    tutor.get_by_label("Mot de passe").fill(PASSWORD)
    tutor.get_by_role("button", name="Se connecter").click()
    tutor.wait_for_url(f"**/evaluations/avis/{candidate_pk}/")
    for choice in tutor.locator("label.btn", has_text=re.compile("^Favorable$")).all():
        choice.click()
    scan(tutor, "pilote-20-avis-entreprise")
    asked = accept_confirmations(tutor)
    tutor.get_by_role("button", name="Signer l'avis").click()
    tutor.wait_for_url("**/evaluations/avis/")
    assert "Avis signé" in steps.success_message(tutor)
    text = _candidate_page(staff, candidate_pk, "pilote-14-candidat-avis-donne")
    assert "Avis de l'entreprise" in text and "Favorable" in text

    # The evaluator scores every competency (today is the session's day).
    steps.menu(evaluator, "À évaluer")
    assert reference in evaluator.locator("main").inner_text()
    scan(evaluator, "pilote-30-a-evaluer")
    from evaluations.models import ScoringSheet

    numbers = sorted(
        ScoringSheet.objects.filter(
            candidate_id=candidate_pk, evaluator__username=evaluator_login
        ).values_list("competency__number", flat=True)
    )
    assert numbers
    for number in numbers:
        steps.score_sheet(
            evaluator, candidate_pk=candidate_pk, competency_number=number, mouse=number == numbers[0]
        )
    scan(evaluator, "pilote-31-notation-soumise")
    text = _candidate_page(staff, candidate_pk, "pilote-15-candidat-evalue")
    assert "En attente de délibération" in text

    # The staff plan the deliberation today, present the candidate, record attendance and notices.
    steps.menu(staff, "Délibérations")
    staff.get_by_role("link", name="Planifier une session").click()
    staff.get_by_label("CQPM").select_option(index=1)
    staff.get_by_label("Jury").select_option(label=jury_name)
    staff.get_by_label("Date").fill(steps.TODAY().isoformat())
    staff.get_by_label("Lieu").fill("Salle du conseil, UIMM Alsace")
    staff.locator("main form [type=submit]").click()
    staff.wait_for_url(re.compile(r"/deliberations/sessions/\d+/$"))
    session_pk = int(re.search(r"/sessions/(\d+)/", staff.url).group(1))
    staff.get_by_text("Ajouter des candidats").click()
    staff.get_by_role("checkbox", name=re.compile(reference)).check()
    staff.get_by_role("button", name="Ajouter à la session").click()
    staff.wait_for_load_state()
    staff.get_by_text("Enregistrer les présences", exact=True).first.click()
    boxes = staff.locator("input[name=present]")
    assert boxes.count() == 2  # the jury member created in « Personnes » and the employees' member
    for box in boxes.all():
        box.check()
    staff.get_by_role("button", name="Enregistrer les présences").click()
    staff.wait_for_load_state()
    staff.locator("summary", has_text="Convocations").click()
    staff.get_by_label("Organisations syndicales sollicitées le").fill(
        (steps.TODAY() - timedelta(days=30)).isoformat()
    )
    staff.get_by_label("Membres salariés convoqués le").fill((steps.TODAY() - timedelta(days=20)).isoformat())
    staff.get_by_role("button", name="Enregistrer les convocations").click()
    staff.wait_for_load_state()
    scan(staff, "pilote-40-deliberation-preparee")

    # The jury member decides with the evidence in front of him, then closes.
    jury.goto(f"/deliberations/sessions/{session_pk}/")
    row = jury.locator("tr", has_text=reference)
    assert "Bloquant" not in row.inner_text(), row.inner_text()
    row.get_by_role("link", name="Décider").click()
    decision = jury.locator("main").inner_text()
    assert "Favorable" in decision and "Acquise" in decision
    scan(jury, "pilote-50-decision-jury")
    asked = accept_confirmations(jury)
    jury.get_by_role("button", name="Enregistrer les décisions").click()
    assert f"Décisions enregistrées pour le candidat {reference}" in steps.success_message(jury)
    assert "CQPM attribué" in jury.locator("tr", has_text=reference).inner_text()
    jury.get_by_role("button", name="Clore la délibération").click(timeout=CLOSING_TIMEOUT)
    jury.wait_for_url(f"**/deliberations/sessions/{session_pk}/documents/", timeout=CLOSING_TIMEOUT)
    assert asked[-1].startswith("Clore la délibération ?")

    # The documents are produced; the jury downloads the PV and the certificate.
    pv_row = _wait_for_download_link(jury, lambda: jury.locator("tbody tr", has_text="Procès-verbal").first)
    scan(jury, "pilote-51-documents")
    with jury.expect_download() as download_info:
        pv_row.get_by_role("link", name="Télécharger").click()
    pdf_pages_to_png(download_info.value.path(), "pilote-52-proces-verbal")
    cert_row = _wait_for_download_link(
        jury, lambda: jury.locator("tbody tr", has_text="Parchemin CQPM").filter(has_text=reference).first
    )
    with jury.expect_download() as download_info:
        cert_row.get_by_role("link", name="Télécharger").click()
    pdf_pages_to_png(download_info.value.path(), "pilote-53-parchemin")

    # The candidate's page: deliberated, the outcome and the documents to download.
    text = _candidate_page(staff, candidate_pk, "pilote-16-candidat-delibere")
    assert "Délibéré" in text and "CQPM attribué" in text
    with staff.expect_download() as download_info:
        staff.locator("main").get_by_role("link", name="Parchemin CQPM").click()
    assert download_info.value.suggested_filename.endswith(".pdf")
