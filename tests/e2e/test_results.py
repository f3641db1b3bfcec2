"""A VAE candidate (no tutor step) certified and a partial result (blocs attestation), in one deliberation.

The VAE candidate is registered and gets its dossier in the browser; both candidates are then scored
through the services (tests/e2e/data.py: the browser scoring is covered by test_journey.py), and the
deliberation — planning, decisions, closing, documents, public verification — happens in the browser.
"""

import re

import pytest

from candidates.models import Candidate

from . import data, steps
from .helpers import CLOSING_TIMEOUT, accept_confirmations, login, pdf_pages_to_png, scan

pytestmark = pytest.mark.browser


def test_vae_candidate_is_certified_without_tutor_and_partial_result_gets_a_blocs_attestation(new_page, demo):
    staff = login(new_page(), "staff-a")

    # VAE: no company, no tutor; the company opinion cannot be asked for, and is never awaited.
    vae_pk, vae_reference = steps.register_candidate(
        staff,
        birth_name="Rousseau",
        first_names="Hélène",
        pathway="VAE (validation des acquis de l'expérience)",
        shots=False,
    )
    assert staff.get_by_role("link", name="Modifier le dossier").is_visible()
    steps.build_and_validate_dossier(staff, company_opinion=False, shots=False)
    vae = data.convene_and_score(Candidate.objects.get(pk=vae_pk), acquired_numbers=range(1, 20))
    staff.goto(f"/evaluations/candidats/{vae_pk}/")
    assert staff.get_by_role("button", name="Inviter le tuteur").count() == 0
    scan(staff, "70-evaluation-candidat-vae")
    tutor = login(new_page(), "tutor-a")
    tutor.goto("/evaluations/avis/")
    assert vae.reference not in tutor.locator("main").inner_text()
    tutor.context.close()

    # Partial: competencies 1 and 2 (bloc 1) acquired, the others not.
    partial = data.register(birth_name="Garnier", first_names="Lucas", pathway="job_seeker")
    data.validate_dossier(partial)
    partial = data.convene_and_score(partial, acquired_numbers={1, 2})

    session_pk = steps.plan_deliberation(
        staff,
        references=[vae_reference, partial.reference],
        place="Salle du conseil, UIMM Lorraine",
        shots=False,
    )
    jury = login(new_page(), "jury-a")
    assert "CQPM attribué" in steps.decide_following_the_proposals(
        jury, session_pk=session_pk, reference=vae_reference
    )
    assert "Résultat partiel" in steps.decide_following_the_proposals(
        jury, session_pk=session_pk, reference=partial.reference
    )
    scan(jury, "71-deliberation-vae-et-partiel")
    assert (
        jury.get_by_role("link", name="Décider", exact=True).count() == 0
    )  # both decided: only « Revoir » left
    asked = accept_confirmations(jury)
    jury.get_by_role("button", name="Clore la délibération").click(timeout=CLOSING_TIMEOUT)
    jury.wait_for_url(f"**/deliberations/sessions/{session_pk}/documents/", timeout=CLOSING_TIMEOUT)
    assert asked[-1].startswith("Clore la délibération ?")

    attestation = steps.wait_for_document_row(jury, "Attestation de blocs de compétences", partial.reference)
    number = attestation.locator("code").first.inner_text().strip()
    assert re.match(r"^[A-Z0-9-]+$", number), number
    with jury.expect_download() as download_info:
        attestation.get_by_role("link", name="Télécharger").click()
    pages = pdf_pages_to_png(download_info.value.path(), "72-attestation-blocs")
    assert pages
    # The partial candidate has no certificate; the VAE candidate has one.
    assert jury.locator("tbody tr", has_text="Parchemin CQPM").filter(has_text=partial.reference).count() == 0
    steps.wait_for_document_row(jury, "Parchemin CQPM", vae_reference)
    scan(jury, "73-documents-vae-et-partiel")

    public = new_page()
    text = steps.verify_publicly(public, number)
    assert "Attestation de blocs de compétences" in text
    scan(public, "74-verification-attestation")
