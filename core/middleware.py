from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .auth import client_ip, session_requires_otp
from .services import audit, audit_rate_limited, home_centre


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy header (no inline script anywhere in our templates)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


class PermissionDeniedAuditMiddleware:
    """Record every permission refusal in the audit journal (who tried what, never the data), and the
    objects a signed-in user asked for and did not get (404 raised by a view: outside his scope or
    absent), limited per account so that a scan cannot flood the journal."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            user = getattr(request, "user", None)
            audit(
                actor=user,
                action="permission_denied",
                centre=home_centre(user),
                message=request.path[:200],
                ip_address=client_ip(request),
                method=request.method,
            )
        elif isinstance(exception, Http404):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                audit_rate_limited(
                    actor=user,
                    action="object_not_found",
                    centre=home_centre(user),
                    message=request.path[:200],
                    ip_address=client_ip(request),
                    method=request.method,
                )
        return None


class OTPVerificationRequiredMiddleware:
    """A user who enrolled a second factor is not trusted until he has entered a valid code.

    Every request of such a session, except the verification page itself, logout and static files, is
    redirected to the verification step. Must come after `django_otp.middleware.OTPMiddleware`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The session flag is read first: anonymous requests and users without a device cost nothing.
        if (
            session_requires_otp(request)
            and request.user.is_authenticated
            and not request.user.is_verified()
            and not self._exempt(request.path)
        ):
            url = reverse("core:otp_verify")
            if request.method == "GET":
                url = f"{url}?{urlencode({'next': request.get_full_path()})}"
            return redirect(url)
        return self.get_response(request)

    @staticmethod
    def _exempt(path):
        exempt = (reverse("core:otp_verify"), reverse("logout"), reverse("healthz"), settings.STATIC_URL)
        return path.startswith(exempt)
