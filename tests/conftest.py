import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import kombu.exceptions
import pytest
import redis.exceptions
from django.conf import settings
from django.db import connection

from core.demo import DEMO_PASSWORD

E2E_PACKAGE = Path(__file__).parent / "e2e"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The browser journeys last, those of tests/e2e together and first among them.

    The tests run in a random order (pytest-randomly shuffles modules across packages, then pytest-django
    puts the transactional tests after the others). Browser tests share heavy state by package: tests/e2e
    seeds the demo data and starts Chromium once for the package, tests/evaluations/test_browser.py once for
    its module, and Playwright's sync API cannot run twice at once in a thread. Mixed with other modules,
    a package would be set up again (a new seed) each time the order comes back to it, or two browsers would
    overlap. So they keep one block each, in this order; within each block the order stays random.
    """
    browser = [item for item in items if item.get_closest_marker("browser")]
    if not browser:
        return
    others = [item for item in items if not item.get_closest_marker("browser")]
    in_e2e = [item for item in browser if E2E_PACKAGE in Path(str(item.path)).parents]
    elsewhere = [item for item in browser if E2E_PACKAGE not in Path(str(item.path)).parents]
    items[:] = others + in_e2e + elsewhere


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def password():
    return DEMO_PASSWORD


@pytest.fixture(autouse=True)
def _reset_axes_and_cache():
    from django.core.cache import cache

    cache.clear()
    yield


def _worker_env():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cqpm.settings_worker_test"}
    db = connection.settings_dict
    env["TEST_WORKER_DB_NAME"] = str(db["NAME"])
    env["TEST_WORKER_MEDIA_ROOT"] = str(settings.STORAGES["default"].get("OPTIONS", {}).get("location", ""))
    return env


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real `celery worker` process on the configured Redis broker, sharing the test database.

    Tests using it must be marked `@pytest.mark.worker` and use committed data (transactional_db).
    """
    if not settings.CELERY_BROKER_URL:
        pytest.skip("Un vrai worker Celery a besoin de CELERY_BROKER_URL (Redis) : voir .ci/run.")
    if (
        connection.vendor == "sqlite"
        and ":memory:" in str(connection.settings_dict["NAME"])
        or (connection.vendor == "sqlite" and "mode=memory" in str(connection.settings_dict["NAME"]))
    ):
        pytest.skip("Le worker doit partager la base de test : PostgreSQL requis.")
    from cqpm.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    celery_bin = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    proc = subprocess.Popen(
        [
            celery_bin,
            "-A",
            "cqpm",
            "worker",
            "--loglevel=warning",
            "--concurrency=1",
            "--pool=prefork",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=_worker_env(),
    )
    # Start from fresh broker connections: a test that simulated a broker outage or had Redis drop
    # its clients may have left a closed pool or dead sockets behind.
    app._pool = None
    app.amqp._producer_pool = None
    previous_eager = app.conf.task_always_eager
    previous_queue = app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                replies = app.control.ping(timeout=1.0)
            except (OSError, kombu.exceptions.OperationalError, redis.exceptions.ConnectionError):
                # A socket that Redis closed under an earlier test (one simulates a broker restart with
                # CLIENT KILL) fails once, in whatever order the tests ran: ask again on new connections.
                app._pool = None
                app.amqp._producer_pool = None
                replies = None
            if replies:
                break
            if proc.poll() is not None:
                pytest.fail("Le worker Celery s'est arrêté au démarrage.")
        else:
            pytest.fail("Le worker Celery n'a pas répondu en 60 s.")
        yield proc
    finally:
        app.conf.task_always_eager = previous_eager
        app.conf.task_default_queue = previous_queue
        settings.CELERY_TASK_ALWAYS_EAGER = True
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the sessions other processes still hold on it.

    Live-server threads, Playwright-driven requests and real Celery workers open their own PostgreSQL
    connections; one left idle would make DROP DATABASE fail at the very end of an otherwise green run.
    """
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
