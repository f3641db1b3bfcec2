"""Production settings: `check --deploy` clean, HTTPS hardening, Content-Security-Policy."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def production_env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "cqpm.settings_production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "cqpm.example.org",
            **extra,
        }
    )
    return env


def run_manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_for_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_fails_on_the_base_settings():
    """The test above is not vacuous: the development settings do produce deploy warnings."""
    env = production_env(DJANGO_SETTINGS_MODULE="cqpm.settings")
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # HSTS missing


def test_production_settings_refuse_the_embedded_secret_key():
    env = production_env()
    env.pop("SECRET_KEY")
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_values():
    code = (
        "from django.conf import settings as s; import json; print(json.dumps({"
        "'debug': s.DEBUG, 'ssl': s.SECURE_SSL_REDIRECT, 'proxy': list(s.SECURE_PROXY_SSL_HEADER),"
        "'hsts': s.SECURE_HSTS_SECONDS, 'sess': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE,"
        "'xfo': s.X_FRAME_OPTIONS, 'csp': s.CONTENT_SECURITY_POLICY, 'demo': s.DEMO_DATA_ALLOWED,"
        "'proxies': s.TRUSTED_PROXY_COUNT}))"
    )
    result = run_manage("shell", "-c", code, env=production_env())
    assert result.returncode == 0, result.stderr
    import json

    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["debug"] is False
    assert values["ssl"] is True
    assert values["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["hsts"] >= 31536000
    assert values["sess"] is True and values["csrf"] is True
    assert values["xfo"] == "DENY"
    assert values["demo"] is False
    assert values["proxies"] == 0  # X-Forwarded-For trusted only when TRUSTED_PROXY_COUNT says so
    assert "unsafe-inline" not in directives(values["csp"])["script-src"]


def directives(policy):
    parsed = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            parsed[tokens[0]] = tokens[1:]
    return parsed


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["login", "password_reset", "healthz"])
def test_every_response_carries_the_security_headers(client, url_name):
    response = client.get(reverse(url_name))
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_contains_inline_script_or_event_handler():
    """The CSP would block them in the browser; catch them before (every app's templates)."""
    import re

    inline_script = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "emails" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if inline_script.search(text) or handler.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.django_db
def test_https_redirect_behind_the_proxy_header(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = client.get(reverse("login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    proxied = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
