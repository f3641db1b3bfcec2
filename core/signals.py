from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .services import audit


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit(actor=user, action="login", ip_address=request.META.get("REMOTE_ADDR") if request else None)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit(actor=user, action="logout", ip_address=request.META.get("REMOTE_ADDR") if request else None)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The username tried is not stored: it may be a mistyped password or someone's e-mail address.
    audit(action="login_failed", ip_address=request.META.get("REMOTE_ADDR") if request else None)
