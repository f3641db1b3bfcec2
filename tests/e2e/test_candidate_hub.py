"""The candidate's page as the hub (issue 16), on the demo data, in the browser: one candidate at each
stage (registered, convened, evaluated, company opinion given, deliberated with documents), each page
screenshotted to test-artifacts/hub-*.png and scanned by axe. Read-only: nothing is changed."""

import pytest

from candidates.models import Candidate, CandidateStatus

from .helpers import login, scan

pytestmark = pytest.mark.browser


def _first(**filters):
    candidate = Candidate.objects.filter(centre__code="A", **filters).order_by("pk").first()
    assert candidate is not None, filters
    return candidate


def test_the_candidates_page_at_each_stage_of_the_demo(new_page, demo):
    stages = [
        ("hub-1-inscrit", _first(status=CandidateStatus.REGISTERED), ["Inscription", "Prochaine étape"]),
        (
            "hub-2-convoque",
            _first(
                status=CandidateStatus.IN_EVALUATION, convocations__isnull=False, scoring_sheets__isnull=False
            ),
            ["Convocation à la session d'évaluation", "fiches soumises"],
        ),
        (
            "hub-3-evalue",
            _first(status=CandidateStatus.AWAITING_DELIBERATION, commission_proposals__isnull=False),
            ["Évaluation par la commission", "Proposition de la commission"],
        ),
        (
            "hub-4-avis-donne",
            _first(
                status=CandidateStatus.AWAITING_DELIBERATION,
                company_opinions__signed_at__isnull=False,
            ),
            ["Avis de l'entreprise", "compétences signées"],
        ),
        (
            "hub-5-delibere",
            _first(status=CandidateStatus.DELIBERATED, generated_documents__is_current=True),
            ["Décision du jury", "Délibération clôturée", "Documents produits", "Acquise jusqu'au"],
        ),
    ]
    staff = login(new_page(), "staff-a")
    for name, candidate, texts in stages:
        staff.goto(f"/candidats/{candidate.pk}/")
        scan(staff, name)
        text = staff.locator("main").inner_text()
        for expected in texts:
            assert expected in text, (name, expected)
        assert "---------" not in staff.content()
    # the deliberated candidate's documents are links to download
    links = staff.locator("main a[href*='/telecharger/']")
    assert links.count() >= 1
