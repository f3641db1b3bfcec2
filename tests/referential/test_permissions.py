import pytest

from core.models import Role
from referential.permissions import can_manage_referentials, can_read_referentials

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role, is_active, superuser, can_read, can_manage",
    [
        (Role.STAFF, True, False, True, True),
        (Role.STAFF, True, True, True, True),
        (Role.EVALUATOR, True, False, True, False),
        (Role.JURY, True, False, True, False),
        (Role.TUTOR, True, False, False, False),
        (Role.STAFF, False, False, False, False),  # deactivated account
    ],
)
def test_predicates(django_user_model, role, is_active, superuser, can_read, can_manage):
    user = django_user_model.objects.create_user(
        f"u-{role}-{is_active}-{superuser}", role=role, is_active=is_active, is_superuser=superuser
    )
    assert can_read_referentials(user) is can_read
    assert can_manage_referentials(user) is can_manage
    assert user.has_perm("referential.read_referentials") is (can_read and is_active)
    assert user.has_perm("referential.manage_referentials") is (can_manage and is_active)


def test_anonymous_has_no_access():
    from django.contrib.auth.models import AnonymousUser

    assert not can_read_referentials(AnonymousUser())
    assert not can_manage_referentials(AnonymousUser())
