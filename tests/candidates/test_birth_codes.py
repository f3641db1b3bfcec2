"""The birth commune codes the CPF holders declaration needs (issue 18): entered on the candidate's
form, validated with a French message, cleared by the anonymisation, part of the personal-data export."""

import pytest
from django.urls import reverse

from candidates.models import CandidateStatus, Pathway
from candidates.rgpd import build_summary
from candidates.services import anonymise_candidate
from tests.candidates.factories import CandidateFactory


def form_data(candidate, **overrides):
    data = {
        "birth_name": candidate.birth_name,
        "first_names": candidate.first_names,
        "sex": candidate.sex,
        "birth_date": candidate.birth_date.isoformat(),
        "birth_place": "Ajaccio",
        "birth_country": "France",
        "pathway": Pathway.VAE,
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_the_codes_are_entered_on_the_candidate_form(client_a, centre_a):
    candidate = CandidateFactory(centre=centre_a, vae=True)
    url = reverse("candidates:update", args=[candidate.pk])
    assert "Code INSEE de la commune de naissance" in client_a.get(url).content.decode()
    response = client_a.post(url, form_data(candidate, birth_insee_code="2a004", birth_postcode="20000"))
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert (candidate.birth_insee_code, candidate.birth_postcode) == ("2A004", "20000")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_insee_code", "5439", "Le code INSEE de la commune comporte 5 caractères"),
        ("birth_postcode", "ABC", "5 caractères"),
    ],
)
def test_a_malformed_code_is_refused_with_a_french_message(client_a, centre_a, field, value, message):
    candidate = CandidateFactory(centre=centre_a, vae=True)
    response = client_a.post(
        reverse("candidates:update", args=[candidate.pk]), form_data(candidate, **{field: value})
    )
    assert response.status_code in (200, 400)
    assert message in response.content.decode()
    candidate.refresh_from_db()
    assert getattr(candidate, field) == ""


@pytest.mark.django_db
def test_anonymisation_clears_the_codes_and_the_export_holds_them(centre_a):
    candidate = CandidateFactory(
        centre=centre_a, status=CandidateStatus.DELIBERATED, birth_insee_code="54395", birth_postcode="54000"
    )
    assert build_summary(candidate)["identity"]["birth_insee_code"] == "54395"
    anonymise_candidate(candidate=candidate)
    candidate.refresh_from_db()
    assert (candidate.birth_insee_code, candidate.birth_postcode) == ("", "")
