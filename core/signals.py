"""Authentication events → audit journal. Never store the username tried or an e-mail address."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .services import audit, home_centre


def _ip(request):
    from .auth import client_ip

    return client_ip(request)


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    from .auth import mark_session_at_login

    if request is not None:
        mark_session_at_login(request, user)
    audit(actor=user, action="login", centre=home_centre(user), ip_address=_ip(request))


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit(actor=user, action="logout", centre=home_centre(user), ip_address=_ip(request))


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The username tried is not stored: it may be a mistyped password or someone's e-mail address.
    audit(action="login_failed", ip_address=_ip(request))


@receiver(user_locked_out)
def audit_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    audit(action="login_locked_out", ip_address=ip_address or _ip(request))
