"""Account security pages: enrolment and verification of the second factor (TOTP), rate-limited
password reset."""

import hashlib
from base64 import b32encode

from django.contrib import messages
from django.contrib.auth import views as auth_views_django
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import auth
from .auth_forms import LoginOrEmailPasswordResetForm, OTPCodeForm
from .services import audit, audit_rate_limited, home_centre
from .views_kit import require_permission


def _ip(request):
    return auth.client_ip(request)


def _safe_next(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def _throttled_message(device, request=None):
    """The message of a code refused unchecked (too many wrong ones just before); such an attempt is
    journaled (`otp_throttled`, limited per account) when `request` is given."""
    allowed, _details = device.verify_is_allowed()
    if allowed:
        return ""
    if request is not None:
        audit_rate_limited(
            actor=request.user,
            action="otp_throttled",
            centre=home_centre(request.user),
            ip_address=_ip(request),
        )
    return _("Trop de codes erronés : patientez quelques instants avant de réessayer.")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("code")
def otp_setup(request):
    """Enrol an authenticator app: QR code of the otpauth:// URI, then confirm with one code."""
    user = request.user
    require_permission(user, "core.enrol_two_factor")
    device = auth.confirmed_device(user)
    if device is not None:
        return render(
            request,
            "registration/otp_status.html",
            {"device": device, "form": OTPCodeForm(), "verified": user.is_verified()},
        )
    pending = auth.pending_device(user)
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttled = _throttled_message(pending, request)
        if throttled:
            form.add_error("code", throttled)
        elif auth.verify_code(user, pending, form.cleaned_data["code"]):
            with transaction.atomic():
                pending.confirmed = True
                pending.save(update_fields=["confirmed"])
                audit(
                    actor=user,
                    action="otp_enrolled",
                    target=pending,
                    centre=home_centre(user),
                    ip_address=_ip(request),
                )
                auth.end_other_sessions(request, user)
            auth.complete_verification(request, pending)
            messages.success(
                request,
                _("La double authentification est activée : un code vous sera demandé à chaque connexion."),
            )
            return redirect("core:otp_setup")
        else:
            form.add_error(
                "code", _("Ce code n'est pas valide. Vérifiez l'heure de votre téléphone et réessayez.")
            )
    uri = pending.config_url
    return render(
        request,
        "registration/otp_setup.html",
        {"form": form, "qr_svg": auth.qr_code_svg(uri), "otpauth_uri": uri, "secret": _b32_secret(pending)},
    )


def _b32_secret(device):
    return b32encode(device.bin_key).decode("ascii")


@never_cache
@login_required
@require_POST
@sensitive_post_parameters("code")
def otp_disable(request):
    """Remove the second factor: only from a verified session and with a current code."""
    user = request.user
    require_permission(user, "core.enrol_two_factor")
    device = auth.confirmed_device(user)
    if device is None:
        return redirect("core:otp_setup")
    form = OTPCodeForm(request.POST)
    if not user.is_verified():
        raise PermissionDenied
    if (
        form.is_valid()
        and not _throttled_message(device, request)
        and auth.verify_code(user, device, form.cleaned_data["code"])
    ):
        with transaction.atomic():
            audit(
                actor=user,
                action="otp_disabled",
                target=device,
                centre=home_centre(user),
                ip_address=_ip(request),
            )
            type(device).objects.filter(user=user).delete()
            auth.end_other_sessions(request, user)
        request.session[auth.OTP_REQUIRED_SESSION_KEY] = False
        messages.success(request, _("La double authentification est désactivée pour votre compte."))
        return redirect("core:otp_setup")
    audit(actor=user, action="otp_failed", centre=home_centre(user), ip_address=_ip(request))
    messages.error(request, _("Code invalide : la double authentification reste active."))
    return redirect("core:otp_setup")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("code")
def otp_verify(request):
    """Second step of the login for users who enrolled a device."""
    user = request.user
    device = auth.confirmed_device(user) if auth.session_requires_otp(request) else None
    if device is None or user.is_verified():
        return redirect(_safe_next(request))
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        throttled = _throttled_message(device, request)
        if throttled:
            form.add_error("code", throttled)
        elif auth.verify_code(user, device, form.cleaned_data["code"]):
            auth.complete_verification(request, device)
            audit(actor=user, action="otp_verified", centre=home_centre(user), ip_address=_ip(request))
            return redirect(_safe_next(request))
        else:
            audit(actor=user, action="otp_failed", centre=home_centre(user), ip_address=_ip(request))
            form.add_error("code", _("Ce code n'est pas valide."))
    return render(request, "registration/otp_verify.html", {"form": form, "next": _safe_next(request)})


# --- Password reset, rate-limited ---------------------------------------------------------------
# Without a limit the reset form lets anyone flood a user's mailbox (and our outgoing mail) with
# reset links, and probe the service at will. Two counters in the cache, one hour each: per client
# address (over the limit: the form answers 429 with a message) and per e-mail address (over the
# limit: no more mail is sent, but the page says the same thing as usual, so the form never tells
# whether an address has an account).
PASSWORD_RESET_WINDOW = 3600
PASSWORD_RESET_PER_IP = 10
PASSWORD_RESET_PER_EMAIL = 3


def _count_in_window(key):
    """Increments the counter `key` for the current window and returns its new value."""
    if cache.add(key, 1, PASSWORD_RESET_WINDOW):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, PASSWORD_RESET_WINDOW)
        return 1


class ThrottledPasswordResetView(auth_views_django.PasswordResetView):
    form_class = LoginOrEmailPasswordResetForm

    # Only well-formed requests count: an empty or invalid form sends nothing and is answered as usual.
    def form_valid(self, form):
        ip = _ip(self.request)
        if _count_in_window(f"password-reset:ip:{ip}") > PASSWORD_RESET_PER_IP:
            form.add_error(
                None,
                _("Trop de demandes de réinitialisation depuis ce poste : réessayez dans une heure."),
            )
            audit(action="auth.password_reset_throttled", ip_address=ip)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        email = form.throttle_key()
        digest = hashlib.sha256(email.encode()).hexdigest()  # no address in cache keys
        if _count_in_window(f"password-reset:email:{digest}") > PASSWORD_RESET_PER_EMAIL:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
