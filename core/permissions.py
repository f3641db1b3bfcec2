"""Role predicates shared by every app (rules library). Object-level checks live in each app."""

import functools

import rules
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .auth import may_enrol
from .models import Role


@rules.predicate
def is_centre_staff(user):
    return bool(user and user.is_authenticated and user.is_centre_staff)


@rules.predicate
def is_evaluator(user):
    return bool(user and user.is_authenticated and user.is_evaluator)


@rules.predicate
def is_tutor(user):
    return bool(user and user.is_authenticated and user.is_tutor)


@rules.predicate
def is_jury_member(user):
    return bool(user and user.is_authenticated and user.is_jury_member)


@rules.predicate
def is_candidate(user):
    return bool(user and user.is_authenticated and user.is_candidate)


@rules.predicate
def is_superuser(user):
    return bool(user and user.is_authenticated and user.is_superuser)


# Two-factor enrolment (core.auth_views): centre staff, superusers and jury members.
rules.add_perm("core.enrol_two_factor", rules.predicate(may_enrol))


ROLE_PREDICATES = {
    Role.STAFF: is_centre_staff,
    Role.EVALUATOR: is_evaluator,
    Role.TUTOR: is_tutor,
    Role.JURY: is_jury_member,
    Role.CANDIDATE: is_candidate,
}


def has_role(user, roles):
    return any(ROLE_PREDICATES[role](user) for role in roles)


class RoleRequiredMixin(LoginRequiredMixin):
    """Class-based views: anonymous → login redirect; a role not in `allowed_roles` → 403.

    Object-level scope is the view's job: fetch objects through the role's selector so that an
    object outside the user's scope is a 404.
    """

    allowed_roles = ()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def role_required(*roles):
    """Function views: same contract as RoleRequiredMixin."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = roles
        return wrapper

    return decorator
