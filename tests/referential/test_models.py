import pytest
from django.db import IntegrityError, transaction

from referential.models import Certification, CertificationStatus, Criterion, CriterionCategory
from tests.referential.factories import BlockFactory, CertificationFactory, CompetencyFactory

pytestmark = pytest.mark.django_db


def test_factory_builds_a_small_published_cqpm_with_all_categories():
    cert = CertificationFactory()
    assert cert.status == CertificationStatus.PUBLISHED
    assert cert.blocks.count() == 2
    assert list(cert.competencies.values_list("number", flat=True)) == [1, 2, 3]
    for competency in cert.competencies.all():
        assert set(competency.criteria.values_list("category", flat=True)) == set(CriterionCategory.values)
        assert competency.conditions.count() == 2
        assert competency.expected_results.count() == 2
    assert cert.modalities.count() == 3
    assert Criterion.objects.filter(competency__certification=cert).count() == 12


def test_bare_factories():
    cert = CertificationFactory(with_content=False, status=CertificationStatus.DRAFT)
    assert not cert.blocks.exists()
    competency = CompetencyFactory(block=BlockFactory(certification=cert))
    assert competency.certification == cert


def test_in_force_returns_the_published_version_only():
    published = CertificationFactory(code="X", version=2)
    CertificationFactory(code="X", version=1, status=CertificationStatus.ARCHIVED, with_content=False)
    CertificationFactory(code="X", version=3, status=CertificationStatus.DRAFT, with_content=False)
    assert Certification.objects.in_force("X") == published
    assert Certification.objects.in_force("Y") is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"version": 1, "status": CertificationStatus.DRAFT},  # same code + version
        {"version": 2, "status": CertificationStatus.PUBLISHED},  # a second published version
    ],
)
def test_database_constraints(kwargs):
    CertificationFactory(code="X", version=1, with_content=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        CertificationFactory(code="X", with_content=False, **kwargs)
