"""The candidate's own space at phone width (issue 23).

1. The demo candidate `candidate-a`, whose deliberation is closed, logs in, lands on his space, sees his
   result and downloads his documents.
2. A whole journey with a candidate of its own (the shared demo data is left as it was): staff validate
   his dossier (through the services), the invitation e-mail's link lets him choose his password, he logs
   in with his e-mail address and hands in his report (receipt with the SHA-256); he is evaluated and the
   jury closes (services); he reads his result, downloads his parchemin and files an appeal with an
   attachment; the jury amends the decision and staff record the outcome (services); he reads the answer
   and finds the new edition. Every candidate step is in the browser, at 390 px.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from .helpers import login, scan, screenshot, wait_for_email, wait_for_session_documents

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
INVITATION = re.compile(r"https?://[^\s]+(/compte/invitation/[A-Za-z0-9_-]+/[A-Za-z0-9-]+/)")
PASSWORD = "Espace-Candidat-2026"


def test_candidate_a_sees_his_result_and_downloads_his_documents_at_phone_width(new_page, demo):
    page = login(new_page(viewport=PHONE, has_touch=True), "candidate-a")
    assert page.url.endswith("/mon-espace/")
    assert page.get_by_role("heading", level=1, name="Mon espace candidat").is_visible()
    results = page.locator("section", has=page.get_by_role("heading", name="Mes résultats"))
    assert "Jury du" in results.inner_text()
    scan(page, "candidat-espace-390")
    downloads = page.get_by_role("link", name="Télécharger")
    assert downloads.count() >= 1
    with page.expect_download() as info:
        downloads.first.click()
    assert info.value.suggested_filename.endswith(".pdf")
    assert "Lien de vérification" in page.locator("main").inner_text()


def _registered_candidate(email):
    """A job seeker of centre A with a project presentation: his report is expected (services)."""
    from candidates import services as candidate_services
    from core.models import CertificationCentre, User
    from referential.models import Certification

    staff = User.objects.get(username="staff-a")
    candidate = candidate_services.register_candidate(
        centre=CertificationCentre.objects.get(code="A"),
        certification=Certification.objects.filter(code="CQPM-CRH", status="published").get(),
        by=staff,
        birth_name="Lemaire",
        first_names="Inès",
        sex="F",
        birth_date=timezone.localdate().replace(year=1994, month=5, day=12),
        pathway="job_seeker",
        email=email,
    )
    dossier = candidate.dossier
    items = {
        item.pk: {"modalities": ["workplace_observation", "project_presentation"]}
        for item in dossier.items.all()
    }
    candidate_services.update_dossier(
        dossier=dossier,
        by=staff,
        report_due_date=timezone.localdate() + timedelta(days=10),
        company_opinion_applies=False,
        items=items,
    )
    candidate_services.validate_dossier(dossier=dossier, by=staff)  # → account and invitation e-mail
    return candidate


def _deliberate(candidate):
    """Evaluation and a closed deliberation of centre A's demo jury, through the services."""
    from core.models import User
    from deliberations import services as deliberation_services
    from deliberations.models import Jury

    from . import data

    candidate = data.convene_and_score(candidate, acquired_numbers=range(1, 40))
    staff = User.objects.get(username="staff-a")
    today = timezone.localdate()
    session = deliberation_services.create_session(
        actor=staff,
        centre=candidate.centre,
        certification=candidate.certification,
        jury=Jury.objects.filter(centre=candidate.centre).order_by("pk").first(),
        date=today,
        place="Salle du conseil, UIMM Lorraine",
    )
    deliberation_services.record_convocations(
        actor=staff,
        session=session,
        unions_asked_on=today - timedelta(days=20),
        members_notified_on=today - timedelta(days=10),
        notify=False,
    )
    deliberation_services.add_candidates(actor=staff, session=session, candidates=[candidate])
    deliberation_services.record_attendance(
        actor=staff,
        session=session,
        present_member_ids=list(session.jury.members.values_list("pk", flat=True)),
    )
    deliberation_services.record_decisions(actor=staff, session=session, candidate=candidate, choices={})
    deliberation_services.close_session(actor=staff, session=session)  # renders the documents in-process
    return session


def _write(path, content):
    path.write_bytes(content)
    return str(path)


def test_from_the_invitation_to_the_upload_the_result_and_an_appeal_at_phone_width(
    new_page, demo, task_worker, tmp_path
):
    from candidates.models import CandidateDocument
    from core.models import User
    from deliberations import services as deliberation_services
    from deliberations.models import Appeal, GeneratedDocument
    from tests.candidates.factories import MINIMAL_PDF

    email = "ines.lemaire.espace@example.org"
    candidate = _registered_candidate(email)

    # The invitation e-mail → choose a password → log in with the e-mail address.
    body = wait_for_email(task_worker, to=email, subject_contains="Votre compte")
    link = INVITATION.search(body)
    assert link, body
    page = new_page(viewport=PHONE, has_touch=True)
    page.goto(link.group(1))
    scan(page, "80-candidat-invitation-390")
    page.get_by_label(re.compile(r"^\s*Mot de passe")).fill(PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    page.wait_for_url("**/compte/connexion/**")
    login(page, email, PASSWORD)
    assert page.url.endswith("/mon-espace/")
    expected = page.locator("section", has=page.get_by_role("heading", name="Documents à remettre"))
    assert "non remis" in expected.inner_text() and "Date limite de dépôt" in expected.inner_text()
    scan(page, "81-candidat-documents-a-remettre-390")

    # Hand in the report → the receipt with the SHA-256.
    page.get_by_role("link", name="Déposer un document").click()
    page.get_by_label("Rapport").check()
    page.get_by_label("Fichier").set_input_files(_write(tmp_path / "mon-rapport.pdf", MINIMAL_PDF))
    scan(page, "82-candidat-depot-390")
    page.get_by_role("button", name="Déposer le document").click()
    page.wait_for_url("**/mon-espace/depots/*/")
    document = CandidateDocument.objects.get(candidate=candidate, kind="report")
    receipt = page.locator("main").inner_text()
    assert "Accusé de réception" in receipt and "mon-rapport.pdf" in receipt and document.sha256 in receipt
    scan(page, "83-candidat-accuse-de-reception-390")
    assert document.sha256 in wait_for_email(task_worker, to=email, subject_contains="Accusé de réception")

    # Staff and jury act (services): evaluation, deliberation closed, documents produced.
    session = _deliberate(candidate)
    wait_for_session_documents(session)
    page.goto("/mon-espace/")
    results = page.locator("section", has=page.get_by_role("heading", name="Mes résultats"))
    assert "CQPM attribué" in results.inner_text()
    assert "Le dépôt est clos" in page.locator("main").inner_text()
    scan(page, "84-candidat-resultat-390")
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger : Parchemin CQPM").click()
    assert info.value.suggested_filename.endswith(".pdf")

    # The appeal, with an attachment.
    page.get_by_role("link", name="Déposer un recours").click()
    page.get_by_label("Motifs de votre recours").fill(
        "Le jury n'a pas tenu compte de l'attestation de mon employeur jointe à ce recours."
    )
    page.get_by_label("Pièces jointes (facultatif)").set_input_files(
        _write(tmp_path / "attestation.pdf", MINIMAL_PDF)
    )
    scan(page, "85-candidat-recours-390")
    page.get_by_role("button", name="Déposer mon recours").click()
    page.wait_for_url("**/mon-espace/")
    assert "Votre recours est enregistré" in page.locator("main").inner_text()
    assert "En cours d'examen" in page.locator("main").inner_text()
    screenshot(page, "86-candidat-recours-depose-390")
    appeal = Appeal.objects.get(candidate=candidate)
    assert appeal.attachments.count() == 1

    # Staff see it on their dashboard and open it (desktop).
    desk = login(new_page(), "staff-a")
    tile = desk.locator("#widget-open_appeals")
    assert candidate.reference in tile.inner_text()
    tile.get_by_role("link", name=re.compile(candidate.reference)).click()
    assert "attestation.pdf" in desk.locator("main").inner_text()
    scan(desk, "89-personnel-recours")
    desk.context.close()

    # The jury re-examines (amendment, motivated) and staff record the outcome (services).
    staff = User.objects.get(username="staff-a")
    deliberation_services.amend_outcome(
        actor=staff,
        session=session,
        candidate=candidate,
        choices={},
        motivation="Recours : l'attestation de l'employeur a été examinée par le jury.",
    )
    deliberation_services.answer_appeal(
        actor=staff,
        appeal=appeal,
        status="upheld",
        answer="Le jury a réexaminé votre dossier : nouvelle édition.",
    )
    wait_for_session_documents(session)
    page.goto("/mon-espace/")
    main = page.locator("main").inner_text()
    assert "Recours accueilli" in main and "nouvelle édition" in main
    current = GeneratedDocument.objects.get(candidate=candidate, kind="certificate", is_current=True)
    assert current.version == 2 and "édition 2" in main
    scan(page, "87-candidat-reponse-recours-390")

    # RGPD: his own data and the correction request.
    page.get_by_role("link", name="Gérer mes données personnelles").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger mes données (ZIP)").click()
    assert info.value.suggested_filename == f"mes-donnees-{candidate.reference}.zip"
    page.get_by_label("Données à corriger").fill("Mon prénom s'écrit Inès, avec un accent.")
    page.get_by_role("button", name="Envoyer ma demande de rectification").click()
    page.wait_for_url("**/mon-espace/mes-donnees/")
    assert "Rectification" in page.locator("main").inner_text()
    scan(page, "88-candidat-donnees-390")
