"""The audit journal read page by page in a browser: « Plus anciens » / « Plus récents » (keyset)."""

import uuid

import pytest

from .helpers import login, scan

pytestmark = pytest.mark.browser


def test_the_journal_pages_older_and_back_keeping_its_filter(page, demo):
    from core.models import CertificationCentre, Role, User
    from core.services import audit

    # The events of an account of its own: other journeys of the package (in any order) download
    # documents of centre A too, and their events must not change the pages counted here.
    centre = CertificationCentre.objects.get(code="A")
    author = User.objects.create_user(username=f"journal-{uuid.uuid4().hex[:8]}", role=Role.STAFF)
    author.centres.add(centre)
    for _ in range(120):  # three pages: 50, 50, 20
        audit(actor=author, action="document.downloaded", centre=centre)
    filters = f"action=document.downloaded&actor={author.username}"
    login(page, "staff-a")
    page.goto(f"/journal/?{filters}")
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
        assert filters in page.url and "avant=" in page.url
    assert nav.get_by_role("link", name="Plus anciens").count() == 0
    scan(page, "journal-audit-plus-anciens")
    nav.get_by_role("link", name="Plus récents", exact=True).click()
    page.wait_for_url("**apres=**")
    assert page.locator("table tbody tr").count() == 50
    nav.get_by_role("link", name="Les plus récents").click()
    page.wait_for_url(lambda url: "avant" not in url and "apres" not in url)
    assert page.locator("table tbody tr").count() == 50
    assert filters in page.url
