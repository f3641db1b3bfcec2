"""The user of every request is read with a SELECT compiled once per process (issue 21, request
floor): it must give the same user as the ORM, and refuse what the ORM-based lookup refused."""

import pytest
from django.utils import timezone

from core.backends import EmailOrUsernameBackend
from core.models import User
from tests.candidates.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_the_request_user_is_the_orm_user():
    staff = StaffFactory(last_login=timezone.now())
    found = EmailOrUsernameBackend().get_user(str(staff.pk))  # the session keeps the id as text
    expected = User.objects.get(pk=staff.pk)
    fields = [field.attname for field in User._meta.concrete_fields]
    assert {name: getattr(found, name) for name in fields} == {
        name: getattr(expected, name) for name in fields
    }
    assert timezone.is_aware(found.last_login)
    assert found._state.adding is False and found._state.db == "default"
    assert list(found.centre_ids()) == list(expected.centre_ids())


def test_an_inactive_unknown_or_malformed_user_is_nobody():
    staff = StaffFactory(is_active=False)
    backend = EmailOrUsernameBackend()
    assert backend.get_user(staff.pk) is None
    assert backend.get_user(staff.pk + 1000) is None
    assert backend.get_user("not-a-number") is None
