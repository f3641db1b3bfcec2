"""Every page of every role's menu, opened as that role: French, fits the window, no serious a11y issue."""

import re
import unicodedata

import pytest

from .helpers import login, scan
from .test_login import ENGLISH_LEFTOVERS

pytestmark = pytest.mark.browser

ROLES = ["staff-a", "evaluator-a", "tutor-a", "jury-a", "candidate-a"]


def slug(text):
    ascii_text = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def test_every_menu_page_of_every_role_is_french_and_accessible(new_page, demo):
    visited = 0
    for username in ROLES:
        page = login(new_page(), username)
        menu = page.get_by_role("navigation", name="Navigation principale")
        entries = [
            (link.inner_text().strip(), link.get_attribute("href"))
            for link in menu.locator("ul.navbar-nav a.nav-link[href]").all()
        ]
        assert ("Mes messages", "/messages/") in entries
        for label, href in entries:
            if href == "/":
                continue  # the dashboard: test_login.py
            response = page.goto(href)
            assert response.status == 200, (username, href, response.status)
            heading = page.get_by_role("heading", level=1)
            assert heading.count() == 1, (username, href)
            assert page.locator(".breadcrumb").count() == 1, (username, href)
            body = page.locator("main").inner_text()
            assert not ENGLISH_LEFTOVERS.search(body), (username, href, ENGLISH_LEFTOVERS.search(body))
            scan(page, f"02-{username}-{slug(label)}")
            visited += 1
        page.context.close()
    assert visited >= 12
