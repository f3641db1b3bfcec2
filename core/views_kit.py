"""The few helpers every view uses (issue 20; docs/design.md, « Views »).

- Scoped object or 404: Django's `get_object_or_404` on the selector that decides visibility
  (`selectors.*_visible_to(user)`): an object of another centre is a 404, never a 403. No view
  re-implements it (tests/architecture/test_layers.py).
- Permission or 403: `require_permission(user, "app.perm", obj)`, the named rules of each app's
  `permissions.py`.
- Service-backed forms and buttons: `submit_form` (bound form → service → message → redirect, or
  the form back with the error) and `run_action` (a button: service → message → redirect).
- Downloads: `file_download` serves a stored file and journals it as `document.downloaded`.
"""

import rules
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect

from .exceptions import BusinessRuleError
from .services import audit_download


def require_permission(user, permission, obj=None):
    """PermissionDenied (403) unless the named rule (`rules.add_perm`) allows `user` on `obj`.

    The rule itself decides, superusers included: no blanket superuser grant as `user.has_perm`
    would give (a closed session stays closed for everyone)."""
    if not rules.has_perm(permission, user, obj):
        raise PermissionDenied


def _message(success, result):
    return success(result) if callable(success) else success


def _redirect(redirect_to, result):
    target = redirect_to(result) if callable(redirect_to) else redirect_to
    return redirect(target)


def submit_form(request, form, action, *, success, redirect_to, error_field=None, error_as_message=False):
    """Run `action()` (the service call) when the bound `form` is valid.

    Success: the `success` message (text, or callable(result) → text or None when it wrote its own
    message) and a redirect to `redirect_to` (URL, model, URL name, or callable(result)).
    Returns None when the form must be shown again: invalid, or the service refused — its
    BusinessRuleError is then an error of the form (`error_field`, the whole form by default; or an
    error message above the page with `error_as_message`, for pages that show the form's own errors
    only beside its fields), and the bound form keeps everything the user typed. Typical use:

        response = submit_form(request, form, lambda: services.x(...), success=_("…"), redirect_to=url)
        return response or render(request, template, {"form": form}, status=…)
    """
    if not form.is_valid():
        return None
    try:
        result = action()
    except BusinessRuleError as exc:
        if error_as_message:
            messages.error(request, exc.message)
        else:
            form.add_error(error_field, exc.message)
        return None
    text = _message(success, result)
    if text:
        messages.success(request, text)
    return _redirect(redirect_to, result)


def run_action(request, action, *, success, redirect_to, error_redirect_to=None):
    """A button without a form to re-show: run `action()`; the service's refusal is an error message,
    success the `success` message (as in `submit_form`); then a redirect to `redirect_to` (URL, model,
    URL name, or callable(result)) — after a refusal to `error_redirect_to` when given."""
    try:
        result = action()
    except BusinessRuleError as exc:
        messages.error(request, exc.message)
        return _redirect(error_redirect_to or redirect_to, None)
    text = _message(success, result)
    if text:
        messages.success(request, text)
    return _redirect(redirect_to, result)


def file_download(request, target, file, *, document, filename, content_type, **data):
    """The stored `file` as an attachment, journaled as `document.downloaded` on `target`.

    `document` names the kind of file in the journal ("candidate_document", "deliberation_document",
    "accrochage", …); `data` adds ids (never personal data). Call it after the scope and permission
    checks. A file missing from the storage is a 404 and no download is journaled."""
    try:
        handle = file.open("rb") if hasattr(file, "open") else file
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    audit_download(request, target, document=document, **data)
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response
