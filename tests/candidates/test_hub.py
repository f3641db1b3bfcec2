"""The candidate's page as the hub (issue 16), on the demo data: each stage of the process shows on
the page of a candidate who reached it, with the next step as a button, and the page keeps a constant
number of queries (candidates.hub sections of evaluations and deliberations)."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate, CandidateStatus
from core.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_staff():
    call_command("seed_demo", stdout=io.StringIO())
    return User.objects.get(username="staff-a")


def _page(client, candidate):
    response = client.get(reverse("candidates:detail", args=[candidate.pk]))
    assert response.status_code == 200
    return response.content.decode().replace("&#x27;", "'"), response


def _demo(status, **filters):
    return Candidate.objects.filter(centre__code="A", status=status, **filters).order_by("pk").first()


def test_each_stage_shows_on_the_candidates_page(client, demo_staff):
    client.force_login(demo_staff)

    registered = _demo(CandidateStatus.REGISTERED)
    page, response = _page(client, registered)
    assert "Parcours du candidat" in page and "Inscription" in page
    assert response.context["next_step"].label == "Compléter et valider le dossier"
    assert 'id="next-step"' in page

    in_evaluation = _demo(CandidateStatus.IN_EVALUATION, convocations__isnull=False, pathway="apprentice")
    page, response = _page(client, in_evaluation)
    for text in (
        "Dossier d'évaluation validé",
        "Convocation à la session d'évaluation",
        "Évaluation par la commission",
        "fiches soumises",
        "Proposition de la commission",
    ):
        assert text in page, text
    assert reverse("evaluations:sheet_detail", args=[in_evaluation.scoring_sheets.first().pk]) in page

    awaiting = (
        Candidate.objects.filter(
            centre__code="A", status=CandidateStatus.AWAITING_DELIBERATION, deliberation_entries__isnull=False
        )
        .order_by("pk")
        .first()
    )
    page, response = _page(client, awaiting)
    assert "Avis de l'entreprise" in page and "Présentation au jury paritaire" in page
    assert "compétences signées" in page

    deliberated = _demo(CandidateStatus.DELIBERATED)
    page, response = _page(client, deliberated)
    for text in ("Décision du jury", "Délibération clôturée", "Documents produits", "Acquise jusqu'au"):
        assert text in page, text
    document = deliberated.generated_documents.filter(is_current=True).first()
    assert reverse("deliberations:document_download", args=[document.pk]) in page
    assert response.context["next_step"] is None

    withdrawn = _demo(CandidateStatus.WITHDRAWN)
    page, response = _page(client, withdrawn)
    assert "Retrait (abandon)" in page and response.context["next_step"] is None


def test_next_steps_convene_and_present_to_the_jury(client, demo_staff):
    client.force_login(demo_staff)
    validated = Candidate.objects.filter(
        centre__code="A", status=CandidateStatus.DOSSIER_VALIDATED, convocations__isnull=True
    ).first()
    if validated is not None:
        _page_text, response = _page(client, validated)
        assert response.context["next_step"].label == "Convoquer à une session"
    awaiting = Candidate.objects.filter(
        centre__code="A", status=CandidateStatus.AWAITING_DELIBERATION, deliberation_entries__isnull=True
    ).first()
    if awaiting is not None:
        _page_text, response = _page(client, awaiting)
        assert response.context["next_step"].label == "Présenter au jury"


def test_hub_page_queries_do_not_grow_with_the_candidates_data(client, demo_staff):
    client.force_login(demo_staff)
    counts = []
    candidates = [
        _demo(status)
        for status in (CandidateStatus.REGISTERED, CandidateStatus.IN_EVALUATION, CandidateStatus.DELIBERATED)
    ]
    # and one whose company opinion applies (the tutor's invitation and the opinions are read)
    candidates.append(
        Candidate.objects.filter(
            centre__code="A", company_opinions__isnull=False, tutor_invitations__isnull=False
        )
        .exclude(pathway="vae")
        .order_by("pk")
        .first()
    )
    for candidate in candidates:
        client.get(reverse("candidates:detail", args=[candidate.pk]))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("candidates:detail", args=[candidate.pk]))
        counts.append(len(queries))
    assert max(counts) <= 17, counts  # issue 21: 20 → 17


def test_the_hubs_tutor_forms_carry_the_pages_csrf_token(demo_staff):
    """The sections are rendered as fragments (no request context): their forms still get the page's
    CSRF token, and a browser-like client (CSRF checked) can post them."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_staff)
    candidate = (
        Candidate.objects.filter(
            centre__code="A",
            status=CandidateStatus.IN_EVALUATION,
            tutor__isnull=False,
            tutor_invitations__isnull=False,
        )
        .exclude(pathway="vae")
        .order_by("pk")
        .first()
    )
    page, _response = _page(client, candidate)
    action = reverse("evaluations:invite_tutor", args=[candidate.pk])
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, "le formulaire « Renvoyer l'invitation » est sur la page"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0)).group(1)
    refused = client.post(action, {"due_date": ""})
    assert refused.status_code == 403  # without the token
    invitations = candidate.tutor_invitations.count()
    due = timezone.localdate() + timedelta(days=10)
    accepted = client.post(action, {"csrfmiddlewaretoken": token, "due_date": due.isoformat()})
    assert accepted.status_code == 302
    assert candidate.tutor_invitations.count() == invitations + 1  # a new link was sent


def test_the_jurys_section_shows_each_decision_with_its_latest_validity_date(client, demo_staff):
    """Issue 21: the validity date is read with the decisions (a subquery): when two deliberations
    capitalised the same competency (ours and an earlier one recorded with its PV), the later date."""
    from deliberations.models import CapitalisedCompetency, CompetencyDecision, PriorDeliberation

    client.force_login(demo_staff)
    deliberated = _demo(CandidateStatus.DELIBERATED)
    decision = CompetencyDecision.objects.filter(candidate=deliberated).select_related("competency").first()
    ours = CapitalisedCompetency.objects.get(candidate=deliberated, competency=decision.competency)
    page, _response = _page(client, deliberated)
    assert f"C{decision.competency.number}." in page and decision.get_decided_display() in page
    assert ours.valid_until.strftime("%d/%m/%Y") in page[page.index('id="hub-jury"') :]

    prior = PriorDeliberation.objects.create(
        candidate=deliberated,
        centre_name="Centre antérieur",
        deliberation_date=ours.acquired_on,
        pv_number="PV-ANT-1",
        document_sha256="0" * 64,
        reason="Délibération antérieure",
    )
    later = ours.valid_until + timedelta(days=400)
    CapitalisedCompetency.objects.create(
        candidate=deliberated,
        competency=decision.competency,
        prior=prior,
        acquired_on=ours.acquired_on,
        valid_until=later,
    )
    page, _response = _page(client, deliberated)
    jury = page[page.index('id="hub-jury"') :]
    row = re.search(rf"C{decision.competency.number}\..*?</tr>", jury, re.S).group(0)
    assert later.strftime("%d/%m/%Y") in row and ours.valid_until.strftime("%d/%m/%Y") not in row
