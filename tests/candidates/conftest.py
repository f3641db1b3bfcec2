import pytest

from tests.candidates.factories import CompanyFactory, TutorFactory
from tests.core.factories import CentreFactory, StaffFactory
from tests.referential.factories import CertificationFactory


@pytest.fixture
def centre_a(db):
    return CentreFactory(code="A", name="Centre A")


@pytest.fixture
def centre_b(db):
    return CentreFactory(code="B", name="Centre B")


@pytest.fixture
def staff_a(centre_a):
    return StaffFactory(username="staff-a", centres=[centre_a])


@pytest.fixture
def staff_b(centre_b):
    return StaffFactory(username="staff-b", centres=[centre_b])


@pytest.fixture
def certification(db):
    return CertificationFactory(code="CQPM 2006 0248")


@pytest.fixture
def company_a(centre_a):
    return CompanyFactory(centre=centre_a)


@pytest.fixture
def tutor_a(company_a):
    return TutorFactory(company=company_a)


@pytest.fixture
def client_a(client, staff_a):
    client.force_login(staff_a)
    return client
