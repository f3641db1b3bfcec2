"""Production settings: the base settings plus HTTPS hardening. `manage.py check --deploy` is clean.

Use with DJANGO_SETTINGS_MODULE=cqpm.settings_production behind a TLS-terminating proxy that sets
X-Forwarded-Proto.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS, SECRET_KEY

# Never the development-only benchmark app (its seed command and bare page), even with CQPM_BENCH set.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "bench"]
CQPM_BENCH = False

DEBUG = False
# Words of the placeholders shipped or commonly copied (the development default "insecure-…", the
# "change-me…" of compose files and docs): a key containing one is not random. A key of few distinct
# characters is not either. A random key that appears in the repository's files (copied from a
# README, a CI file…) is refused by the deploy check `cqpm.E001` (core/checks.py).
PLACEHOLDER_WORDS = ("insecure", "change-me", "changeme", "change_me", "replace-me", "placeholder", "example")


def _is_placeholder(key):
    lowered = key.lower()
    return any(word in lowered for word in PLACEHOLDER_WORDS) or len(set(key)) < 10


if len(SECRET_KEY) < 50 or _is_placeholder(SECRET_KEY):
    raise ImproperlyConfigured(
        "Set a random SECRET_KEY of at least 50 characters in production (not a placeholder such as the "
        "one of docker-compose.yml): python -c 'import secrets; print(secrets.token_urlsafe(64))'."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The client address (lockouts, journal) is read from X-Forwarded-For only behind TRUSTED_PROXY_COUNT
# proxies that each append to it, and only if gunicorn cannot be reached without going through them.
# Default 0: with gunicorn published directly, anyone could write that header and dodge the lockout.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "true").lower() != "false"
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
DEMO_DATA_ALLOWED = False
