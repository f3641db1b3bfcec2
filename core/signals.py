"""Authentication events → audit journal. Never store the username tried or an e-mail address."""

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from .auth import client_ip, mark_session_at_login
from .services import audit, home_centre, identity_changes, notify_email_changed


def _ip(request):
    return client_ip(request)


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
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


# --- Changes of an account's identity -----------------------------------------------------------
# Whoever changes them (a page, the Django admin, a command), the change is journaled with the old
# and new values, and a new e-mail address is announced to the previous one (review finding 2).
USER_IDENTITY_FIELDS = ("email", "first_name", "last_name", "username")


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def remember_identity(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._identity_before = None
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(USER_IDENTITY_FIELDS):
        return  # e.g. last_login at each login: no query
    instance._identity_before = sender.objects.filter(pk=instance.pk).values(*USER_IDENTITY_FIELDS).first()


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def journal_identity_change(sender, instance, created, raw=False, **kwargs):
    before = getattr(instance, "_identity_before", None)
    instance._identity_before = None
    if raw or created or not before:
        return
    after = {field: getattr(instance, field) for field in USER_IDENTITY_FIELDS}
    changes = identity_changes(before, after, USER_IDENTITY_FIELDS)
    if not changes:
        return
    audit(action="user.identity_changed", target=instance, centre=home_centre(instance), changes=changes)
    if "email" in changes:
        notify_email_changed(
            old_email=before["email"],
            subject_label=_("votre compte"),
            recipient_name=instance.get_full_name(),
        )
