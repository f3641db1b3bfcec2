"""Tutor.email_domain: computed by the database from the address on every write path (save, queryset
update, bulk insert), lower-cased, so the conflict-of-interest check can look a domain up by index."""

import pytest

from candidates.models import Tutor
from tests.candidates.factories import CompanyFactory, TutorFactory

pytestmark = pytest.mark.django_db


def domain_of(tutor):
    return Tutor.objects.values_list("email_domain", flat=True).get(pk=tutor.pk)


def test_the_domain_follows_the_address_whatever_the_write_path():
    tutor = TutorFactory(email="RH.Martin@Forges-Durand.FR", user=None)
    assert domain_of(tutor) == "forges-durand.fr"
    tutor.email = "paul@usine-nord.fr"
    tutor.save()
    assert domain_of(tutor) == "usine-nord.fr"
    Tutor.objects.filter(pk=tutor.pk).update(email="paul@Metal-Sud.com")
    assert domain_of(tutor) == "metal-sud.com"
    company = CompanyFactory()
    bulk = Tutor.objects.bulk_create(
        [Tutor(company=company, first_name="A", last_name="B", email="a.b@Chaudronnerie.EU")]
    )
    assert domain_of(bulk[0]) == "chaudronnerie.eu"


def test_a_domain_lookup_finds_only_that_domain():
    same = TutorFactory(email="x@acme.fr", user=None)
    TutorFactory(email="y@notacme.fr", user=None)  # a suffix match on "acme.fr" alone would take it
    TutorFactory(email="z@acme.fr.example", user=None)
    assert list(Tutor.objects.filter(email_domain="acme.fr").values_list("pk", flat=True)) == [same.pk]
