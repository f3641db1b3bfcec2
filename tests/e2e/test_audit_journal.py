"""The audit journal read page by page in a browser: « Plus anciens » / « Plus récents » (keyset)."""

import pytest

from .helpers import login, scan

pytestmark = pytest.mark.browser


def test_the_journal_pages_older_and_back_keeping_its_filter(page, demo):
    from core.models import CertificationCentre, User
    from core.services import audit

    staff = User.objects.get(username="staff-a")
    centre = CertificationCentre.objects.get(code="A")
    for _ in range(120):  # three pages: 50, 50, 20
        audit(actor=staff, action="document.downloaded", centre=centre)
    login(page, "staff-a")
    page.goto("/journal/?action=document.downloaded")
    assert page.get_by_role("heading", level=1).inner_text() == "Journal d'audit"
    rows = page.locator("table tbody tr")
    assert rows.count() == 50
    nav = page.get_by_role("navigation", name="Pages du journal")
    assert nav.get_by_role("link", name="Plus récents", exact=True).count() == 0
    for expected in (50, 20):
        before = page.url
        nav.get_by_role("link", name="Plus anciens").click()
        page.wait_for_url(lambda url, before=before: url != before)
        assert page.locator("table tbody tr").count() == expected
        assert "action=document.downloaded" in page.url and "avant=" in page.url
    assert nav.get_by_role("link", name="Plus anciens").count() == 0
    scan(page, "journal-audit-plus-anciens")
    nav.get_by_role("link", name="Plus récents", exact=True).click()
    page.wait_for_url("**apres=**")
    assert page.locator("table tbody tr").count() == 50
    nav.get_by_role("link", name="Les plus récents").click()
    page.wait_for_url(lambda url: "avant" not in url and "apres" not in url)
    assert page.locator("table tbody tr").count() == 50
    assert "action=document.downloaded" in page.url
