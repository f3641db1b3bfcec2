"""Settings of a Celery worker started by the test suite: same database as the tests (test_ prefix)."""

import os

from .settings_test import *  # noqa: F403
from .settings_test import DATABASES, STORAGES

DATABASES["default"]["NAME"] = os.environ["TEST_WORKER_DB_NAME"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
if os.environ.get("TEST_WORKER_MEDIA_ROOT"):
    MEDIA_ROOT = os.environ["TEST_WORKER_MEDIA_ROOT"]
    STORAGES["default"]["OPTIONS"]["location"] = MEDIA_ROOT
CELERY_TASK_ALWAYS_EAGER = False
if os.environ.get("TEST_WORKER_EMAIL_DIR"):
    # Browser tests read the emails the worker sends (e.g. the tutor's invitation link) from files.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["TEST_WORKER_EMAIL_DIR"]
