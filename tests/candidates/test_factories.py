import pytest

from candidates.models import CandidateStatus, Pathway
from candidates.validators import siret_is_valid
from core.models import Role
from tests.candidates.factories import (
    CandidateDocumentFactory,
    CandidateFactory,
    CompanyFactory,
    TutorFactory,
)


@pytest.mark.django_db
def test_candidate_factory_builds_a_consistent_candidate_with_dossier_items():
    candidate = CandidateFactory()
    assert candidate.company.centre == candidate.centre
    assert candidate.tutor.company == candidate.company
    assert candidate.tutor.user.role == Role.TUTOR
    assert candidate.centre in candidate.tutor.user.centres.all()
    assert siret_is_valid(candidate.company.siret)
    items = candidate.dossier.items.all()
    assert [i.competency.number for i in items] == [1, 2, 3]
    assert candidate.dossier.company_opinion_applies
    assert not candidate.dossier.is_frozen


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "pathway"), [({"vae": True}, Pathway.VAE), ({"job_seeker": True}, Pathway.JOB_SEEKER)]
)
def test_traits_without_company(kwargs, pathway):
    candidate = CandidateFactory(**kwargs)
    assert candidate.pathway == pathway
    assert candidate.company is None and candidate.tutor is None
    assert not candidate.dossier.company_opinion_applies


@pytest.mark.django_db
def test_status_past_registration_gives_a_frozen_dossier_and_document_factory_stores_a_file():
    candidate = CandidateFactory(status=CandidateStatus.IN_EVALUATION)
    assert candidate.dossier.is_frozen
    document = CandidateDocumentFactory(candidate=candidate)
    assert document.file.read().startswith(b"%PDF")
    company = CompanyFactory()
    assert TutorFactory(company=company, user=None).user is None
