"""The benchmark's app (`seed_scale`, the bare page) is for development only (issue 20)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; django.setup(); from django.conf import settings; from django.urls import NoReverseMatch, "
    "reverse\ntry:\n    reverse('bench_bare'); url = True\nexcept NoReverseMatch:\n    url = False\n"
    "print('bench' in settings.INSTALLED_APPS, url)"
)


def settings_say(module, **env):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": module, **env}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def test_production_settings_never_install_the_bench_app_even_when_asked():
    key = secrets.token_urlsafe(64)
    assert settings_say("cqpm.settings_production", CQPM_BENCH="1", SECRET_KEY=key) == ["False", "False"]


def test_the_bench_app_is_installed_only_when_the_setting_says_so():
    assert settings_say("cqpm.settings", CQPM_BENCH="0") == ["False", "False"]
    assert settings_say("cqpm.settings", CQPM_BENCH="1") == ["True", "True"]


def test_the_tests_have_it_and_keep_the_bare_page():
    assert apps.is_installed("bench")
    assert reverse("bench_bare") == "/bench/bare"
