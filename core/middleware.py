from django.conf import settings
from django.core.exceptions import PermissionDenied


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
    """Record every permission refusal in the audit journal (who tried what, never the data)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            from .services import audit

            audit(
                actor=getattr(request, "user", None),
                action="permission_denied",
                message=request.path[:200],
                ip_address=request.META.get("REMOTE_ADDR"),
                method=request.method,
            )
        return None
