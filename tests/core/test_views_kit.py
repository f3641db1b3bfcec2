"""core.views_kit (issue 20): the helpers every view uses — scoped object or 404, permission or 403,
service-backed forms and buttons, audited downloads."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rules
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.test import RequestFactory

from core.exceptions import BusinessRuleError
from core.models import AuditEvent, CertificationCentre, Role
from core.views_kit import file_download, require_permission, run_action, submit_form
from tests.core.factories import CentreFactory, UserFactory

pytestmark = pytest.mark.django_db


def _request(user, method="post", data=None):
    request = getattr(RequestFactory(), method)("/x/", data or {}, REMOTE_ADDR="192.0.2.7")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _messages(request):
    return [(message.level_tag, str(message)) for message in get_messages(request)]


class NameForm(forms.Form):
    name = forms.CharField(max_length=20)


@pytest.fixture
def staff():
    return UserFactory(role=Role.STAFF, centres=[CentreFactory(code="K1")])


# --- scoped object or 404 / permission or 403 -------------------------------------------------


def test_an_object_outside_the_selector_is_a_404_not_a_403(staff):
    own, other = CertificationCentre.objects.get(code="K1"), CentreFactory(code="K2")
    visible = CertificationCentre.objects.filter(pk__in=staff.centre_ids())
    assert get_object_or_404(visible, pk=own.pk) == own
    with pytest.raises(Http404):
        get_object_or_404(visible, pk=other.pk)


def test_require_permission_asks_the_named_rule_with_the_object(staff):
    rules.add_perm("tests.touch_centre", rules.predicate(lambda user, centre: centre.code == "K1"))
    try:
        require_permission(staff, "tests.touch_centre", CertificationCentre.objects.get(code="K1"))
        with pytest.raises(PermissionDenied):
            require_permission(staff, "tests.touch_centre", CentreFactory(code="K2"))
        with pytest.raises(PermissionDenied):  # an unknown name never allows
            require_permission(staff, "tests.no_such_rule")
    finally:
        rules.remove_perm("tests.touch_centre")


def test_require_permission_gives_superusers_nothing_the_rule_refuses():
    """Unlike `user.has_perm` (ModelBackend grants an active superuser everything), the rule decides."""
    superuser = UserFactory(role=Role.TUTOR, is_superuser=True)
    assert superuser.has_perm("core.enrol_two_factor")  # the blanket grant the helper does not use
    require_permission(superuser, "core.enrol_two_factor")  # may_enrol itself lets superusers in
    rules.add_perm("tests.never", rules.always_deny)
    try:
        assert superuser.has_perm("tests.never")
        with pytest.raises(PermissionDenied):
            require_permission(superuser, "tests.never")
    finally:
        rules.remove_perm("tests.never")
    with pytest.raises(PermissionDenied):
        require_permission(UserFactory(role=Role.TUTOR), "core.enrol_two_factor")


# --- submit_form --------------------------------------------------------------------------------


def test_submit_form_success_redirects_with_the_message(staff):
    request = _request(staff)
    form = NameForm({"name": "Dupont"})
    response = submit_form(
        request,
        form,
        lambda: form.cleaned_data["name"].upper(),
        success=lambda result: f"Enregistré : {result}.",
        redirect_to=lambda result: f"/done/{result}/",
    )
    assert response.status_code == 302 and response.url == "/done/DUPONT/"
    assert _messages(request) == [("success", "Enregistré : DUPONT.")]


def test_submit_form_refusal_is_a_form_error_and_keeps_what_was_typed(staff):
    request = _request(staff)
    form = NameForm({"name": "Dupont"})

    def refuse():
        raise BusinessRuleError("Ce nom est déjà pris.")

    assert (
        submit_form(request, form, refuse, success="Oui.", redirect_to="/done/", error_field="name") is None
    )
    assert form.errors == {"name": ["Ce nom est déjà pris."]}
    assert form["name"].value() == "Dupont"  # re-rendered bound: nothing lost
    assert _messages(request) == []


def test_submit_form_refusal_as_message(staff):
    request = _request(staff)
    form = NameForm({"name": "Dupont"})

    def refuse():
        raise BusinessRuleError("Refusé par la règle.")

    assert (
        submit_form(request, form, refuse, success="Oui.", redirect_to="/done/", error_as_message=True)
        is None
    )
    assert _messages(request) == [("error", "Refusé par la règle.")]
    assert not form.errors


def test_submit_form_invalid_form_never_calls_the_service(staff):
    request = _request(staff)
    form = NameForm({"name": "x" * 21})
    called = []
    assert submit_form(request, form, lambda: called.append(1), success="Oui.", redirect_to="/done/") is None
    assert called == [] and "name" in form.errors
    unbound = NameForm()  # a GET: nothing to submit
    assert submit_form(request, unbound, lambda: called.append(1), success="Oui.", redirect_to="/") is None
    assert called == []


# --- run_action ---------------------------------------------------------------------------------


def test_run_action_success_and_refusal(staff):
    request = _request(staff)
    response = run_action(request, lambda: 3, success=lambda n: f"{n} ajoutés.", redirect_to="/board/")
    assert response.status_code == 302 and response.url == "/board/"
    assert _messages(request) == [("success", "3 ajoutés.")]

    def refuse():
        raise BusinessRuleError("La session est close.")

    request = _request(staff)
    response = run_action(
        request, refuse, success="Oui.", redirect_to="/documents/", error_redirect_to="/session/"
    )
    assert response.url == "/session/"
    assert _messages(request) == [("error", "La session est close.")]

    request = _request(staff)
    assert run_action(request, refuse, success="Oui.", redirect_to="/documents/").url == "/documents/"


# --- file_download ------------------------------------------------------------------------------


def test_file_download_serves_the_file_and_journals_it_once(staff):
    centre = CertificationCentre.objects.get(code="K1")
    name = default_storage.save("tests/views-kit.pdf", ContentFile(b"%PDF-1.4 kit"))
    request = _request(staff, method="get")
    field = default_storage.open(name, "rb")
    response = file_download(
        request,
        centre,
        field,
        document="candidate_document",
        filename="rapport.pdf",
        content_type="application/pdf",
        document_id=12,
    )
    assert b"".join(response.streaming_content) == b"%PDF-1.4 kit"
    assert (
        response["Content-Disposition"].startswith("attachment")
        and "rapport.pdf" in response["Content-Disposition"]
    )
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.get()
    assert event.action == "document.downloaded" and event.actor == staff
    assert event.data == {"document": "candidate_document", "document_id": 12}
    assert (event.target_type, event.target_id) == ("core.certificationcentre", str(centre.pk))
    assert event.ip_address == "192.0.2.7"


def test_a_file_missing_from_the_storage_is_a_404_and_no_download_is_journaled(staff):
    class Missing:
        def open(self, mode):
            raise FileNotFoundError("gone")

    with pytest.raises(Http404):
        file_download(
            _request(staff, method="get"),
            staff,
            Missing(),
            document="accrochage",
            filename="x.xml",
            content_type="application/xml",
        )
    assert not AuditEvent.objects.exists()


def test_every_rule_the_views_ask_for_is_registered_at_startup():
    """`require_permission` looks rules up by name and refuses (403) an unknown one: each name the
    views use must be registered by its app's `ready()`, not as a side effect of importing a view.
    Checked in a fresh interpreter that only sets Django up (no URLconf, no view imported)."""
    root = Path(__file__).resolve().parents[2]
    names = set()
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in {"tests", ".venv", "bench"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "require_permission"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                names.add(node.args[1].value)
    assert len(names) > 10, names
    apps = ["candidates", "deliberations", "evaluations", "people", "referential", "reporting", "core"]
    script = (
        "import django, json, sys, rules; django.setup(); "
        "print(json.dumps([n for n in sys.argv[2:] if not rules.perm_exists(n)] + "
        "[m for m in sys.modules if m.split('.')[0] in sys.argv[1].split()"
        " and (m.endswith('.views') or '.views.' in m)]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, " ".join(apps), *sorted(names)],
        cwd=root,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "cqpm.settings"),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
