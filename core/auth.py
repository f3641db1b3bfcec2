"""Second authentication factor (TOTP, django-otp) for staff and jury members.

Two-factor authentication is optional: a staff or jury user may enrol an authenticator app. Once he
has a confirmed device, a password alone is no longer enough: after the login the session is marked
"second factor required" and `OTPVerificationRequiredMiddleware` sends every request to the
verification page until a valid code has been entered (`request.user.is_verified()`).
"""

import ipaddress

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.db.models import F
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Role

# Session key set at login when the user owns a confirmed device (checked by the middleware without
# a database query on every request).
OTP_REQUIRED_SESSION_KEY = "cqpm_otp_required"
ENROL_ROLES = (Role.STAFF, Role.JURY)
DEVICE_NAME = "Application d'authentification"


def may_enrol(user):
    """Two-factor enrolment is offered to centre staff (and superusers) and jury members."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.role in ENROL_ROLES))


def confirmed_device(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def pending_device(user):
    """The unconfirmed device being enrolled, created on first use (one per user)."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def mark_session_at_login(request, user):
    """Called on `user_logged_in`: does this session need a second factor before anything else?"""
    session = getattr(request, "session", None)
    if session is None:
        return
    session[OTP_REQUIRED_SESSION_KEY] = bool(user_has_device(user, confirmed=True))


def session_requires_otp(request):
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(OTP_REQUIRED_SESSION_KEY))


def verify_code(user, device, token):
    """Check a code against the device (django-otp throttles repeated failures)."""
    token = "".join(str(token or "").split())
    if not token.isdigit() or device is None:
        if device is not None:
            device.throttle_increment(commit=True)
        return False
    return device.verify_token(token)


def end_other_sessions(request, user):
    """Every other session of `user` stops authenticating at its next request (second factor enrolled
    or removed); the current one is kept."""

    get_user_model().objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    update_session_auth_hash(request, user)


def complete_verification(request, device):
    otp_login(request, device)
    request.session[OTP_REQUIRED_SESSION_KEY] = True


def qr_code_svg(uri):
    """The otpauth:// URI as an inline SVG QR code (no image file, no inline script)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=20, border=2)
    return image.to_string(encoding="unicode")


def otp_issuer():
    return getattr(settings, "OTP_TOTP_ISSUER", "Certification CQPM")


def client_ip(request):
    """The client's IP address, for the lockout (django-axes) and the audit journal.

    Behind `TRUSTED_PROXY_COUNT` reverse proxies, each one appends the address it saw to
    X-Forwarded-For: the count-th entry from the right was written by our outermost proxy and cannot
    be forged by the client (entries further left can). Without a trusted proxy: REMOTE_ADDR.
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR")
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            try:
                return str(ipaddress.ip_address(forwarded[-count]))
            except ValueError:
                return remote
    return remote
