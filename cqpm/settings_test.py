"""Test settings: the same configuration as production-like runs, with fast hashing and private dirs.

DATABASE_URL and CELERY_BROKER_URL still come from the environment, so CI runs the suite on
PostgreSQL and Redis while `make test` on a laptop uses SQLite and eager tasks.
"""

import tempfile
from pathlib import Path

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS, STORAGES

# The tests use the benchmark's scale builder (tests/performance) and its bare page (permission matrix).
if "bench" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
CQPM_BENCH = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="cqpm-test-media-"))
if STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
    STORAGES["default"]["OPTIONS"]["location"] = MEDIA_ROOT
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests decide per test whether a task runs through a real worker; by default they run in-process.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
AXES_ENABLED = True
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
