"""The candidate's own space at phone width (issue 23): the demo candidate `candidate-a`, whose
deliberation is closed, logs in, lands on his space, sees his result and downloads his documents."""

import pytest

from .helpers import login, scan

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


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
