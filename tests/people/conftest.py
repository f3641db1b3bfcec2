import pytest

from tests.candidates.factories import CompanyFactory
from tests.core.factories import CentreFactory, StaffFactory, UserFactory


@pytest.fixture
def centre_a(db):
    return CentreFactory(code="PA", name="UIMM Lorraine")


@pytest.fixture
def centre_b(db):
    return CentreFactory(code="PB", name="UIMM Alsace")


@pytest.fixture
def staff_a(centre_a):
    return StaffFactory(username="staff-pa", centres=[centre_a])


@pytest.fixture
def staff_b(centre_b):
    return StaffFactory(username="staff-pb", centres=[centre_b])


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin-p", is_superuser=True, is_staff=True)


@pytest.fixture
def company_a(centre_a):
    return CompanyFactory(centre=centre_a, name="Forges de Lorraine")
