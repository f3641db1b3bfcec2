"""Permission refusals as a person sees them: a clear French page, never a crash nor someone else's data."""

import pytest

from candidates.models import Candidate

from .helpers import login, scan

pytestmark = pytest.mark.browser


def test_wrong_role_gets_a_french_403_and_other_centre_gets_a_404(new_page, demo):
    # A tutor typing the staff's candidate list address: refused (403), told why, with a way back.
    tutor = login(new_page(), "tutor-a")
    menu = tutor.get_by_role("navigation", name="Navigation principale")
    assert menu.get_by_role("link", name="Candidats", exact=True).count() == 0
    response = tutor.goto("/candidats/")
    assert response.status == 403
    assert tutor.get_by_role("heading", level=1).inner_text() == "Accès refusé"
    assert "Forbidden" not in tutor.content()
    scan(tutor, "80-acces-refuse")
    tutor.get_by_role("link", name="Retour au tableau de bord").click()
    assert tutor.get_by_role("heading", level=1).inner_text() == "Tableau de bord"

    # An evaluator may not open the deliberations.
    evaluator = login(new_page(), "evaluator-a")
    assert evaluator.goto("/deliberations/").status == 403
    assert evaluator.get_by_role("heading", level=1).inner_text() == "Accès refusé"

    # Staff of centre B asking for a centre A candidate: it does not exist for them (404, nothing shown).
    candidate = Candidate.objects.filter(centre__code="A").order_by("pk").first()
    staff_b = login(new_page(), "staff-b")
    response = staff_b.goto(f"/candidats/{candidate.pk}/")
    assert response.status == 404
    assert staff_b.get_by_role("heading", level=1).inner_text() == "Page introuvable"
    assert candidate.birth_name.upper() not in staff_b.content().upper()
    assert candidate.reference not in staff_b.content()
    scan(staff_b, "81-hors-perimetre")
