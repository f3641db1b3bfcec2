"""Log in with the login (username) or the e-mail address, everywhere a password is checked.

E-mail addresses are compared without case. Accounts created through « Personnes » have a unique
address (people.services refuses a duplicate), but older accounts may share one (a tutor record and an
evaluator account of the same person, for example): then the password decides — the one account
whose password matches is the one logged in; when none or several match, the login fails like any
wrong password (the form says to use the login instead), so the page never tells which addresses have
an account.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def looks_like_email(value):
    return "@" in (value or "")


def users_with_email(email):
    """Active or not, every account using this address (case-insensitive)."""
    email = (email or "").strip()
    if not email:
        return get_user_model().objects.none()
    return get_user_model()._default_manager.filter(email__iexact=email)


class EmailOrUsernameBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        username = username.strip()
        if not looks_like_email(username):
            return super().authenticate(request, username=username, password=password, **kwargs)
        # A login may itself contain "@" (older accounts): the exact login wins.
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            return user
        candidates = list(users_with_email(username)[:5])
        if not candidates:
            # Same work as a real check, so that timing does not reveal unknown addresses.
            get_user_model()().set_password(password)
            return None
        matching = [
            user for user in candidates if user.check_password(password) and self.user_can_authenticate(user)
        ]
        return matching[0] if len(matching) == 1 else None


def lockout_username(request, credentials):
    """django-axes counts failures per login: an address of exactly one account counts for that login,
    so typing the address instead of the login does not give a second series of attempts."""
    if credentials:
        value = credentials.get("username")
    else:
        value = getattr(request, "data", getattr(request, "POST", {})).get("username")
    if value and looks_like_email(value):
        value = value.strip()
        logins = list(users_with_email(value).values_list("username", flat=True)[:2])
        if len(logins) == 1:
            return logins[0]
        return value.lower()
    return value
