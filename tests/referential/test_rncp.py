"""The CQPM's RNCP registration (number and level): set by staff on every version, audited (issue 18)."""

import pytest
from django.urls import reverse

from core.exceptions import BusinessRuleError
from core.models import AuditEvent, Role
from referential import services
from referential.models import DEMO_RNCP_NUMBER, CertificationStatus
from tests.core.factories import CentreFactory, StaffFactory, UserFactory
from tests.referential.factories import CertificationFactory


@pytest.fixture
def versions(db):
    archived = CertificationFactory(code="CQPM-R", version=1, status=CertificationStatus.ARCHIVED)
    published = CertificationFactory(code="CQPM-R", version=2)
    draft = CertificationFactory(code="CQPM-R", version=3, status=CertificationStatus.DRAFT)
    other = CertificationFactory(code="CQPM-AUTRE")
    return archived, published, draft, other


def test_the_registration_applies_to_every_version_of_the_cqpm_and_is_audited(versions):
    archived, published, draft, other = versions
    staff = StaffFactory(centres=[CentreFactory()])
    services.set_rncp_registration(
        certification=published, rncp_number=" rncp 35 000 ", rncp_level="5", actor=staff
    )
    for version in (archived, published, draft):
        version.refresh_from_db()
        assert (version.rncp_number, version.rncp_level) == ("RNCP35000", "5")
    other.refresh_from_db()
    assert other.rncp_number == ""
    event = AuditEvent.objects.get(action="referential.rncp_registration_set")
    assert event.actor == staff and event.target_id == str(published.pk)
    assert event.data["before"] == {"rncp_number": "", "rncp_level": ""}
    assert event.data["rncp_number"] == "RNCP35000"
    services.set_rncp_registration(certification=published, rncp_number="", rncp_level="", actor=staff)
    published.refresh_from_db()
    assert published.rncp_number == "" and published.rncp_level == ""


@pytest.mark.parametrize(
    ("number", "level", "message"),
    [
        ("ABC", "5", "RNCP"),
        ("RNCP12", "5", "RNCP"),
        ("RNCP35000", "9", "niveau"),
        ("RNCP35000", "", "ensemble"),
        ("", "5", "ensemble"),
    ],
)
def test_invalid_registrations_are_refused_with_a_clear_message(versions, number, level, message):
    published = versions[1]
    with pytest.raises(BusinessRuleError, match=message):
        services.set_rncp_registration(certification=published, rncp_number=number, rncp_level=level)
    published.refresh_from_db()
    assert published.rncp_number == ""


def test_staff_set_it_from_the_referential_page(versions, client):
    published = versions[1]
    client.force_login(StaffFactory(centres=[CentreFactory()]))
    url = reverse("referential:rncp", args=[published.pk])
    assert url in client.get(reverse("referential:detail", args=[published.pk])).content.decode()
    assert client.get(url).status_code == 200
    response = client.post(url, {"rncp_number": "RNCP", "rncp_level": "5"})
    assert response.status_code == 400 and "RNCP" in response.content.decode()
    response = client.post(url, {"rncp_number": "RNCP35000", "rncp_level": "5"})
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.rncp_number == "RNCP35000"


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.JURY, Role.TUTOR])
def test_other_roles_cannot_set_it(versions, client, role):
    published = versions[1]
    client.force_login(UserFactory(role=role, centres=[CentreFactory()]))
    response = client.post(
        reverse("referential:rncp", args=[published.pk]), {"rncp_number": "RNCP1234", "rncp_level": "4"}
    )
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.rncp_number == ""


def test_the_demo_number_is_labelled_as_demo_data(versions, client):
    published = versions[1]
    services.set_rncp_registration(certification=published, rncp_number=DEMO_RNCP_NUMBER, rncp_level="5")
    client.force_login(StaffFactory(centres=[CentreFactory()]))
    page = client.get(reverse("referential:detail", args=[published.pk])).content.decode()
    assert "numéro fictif — données de démonstration" in page
