"""Browser tests: Playwright (sync API) driving Debian's headless Chromium against pytest-django's live server.

How the pieces fit (see docs/e2e.md):
- One Chromium per run of this package (`browser`, package scope); one fresh context (cookies, storage) per
  role and per test, so sessions never leak between tests.
- `live_server` runs the project in a thread of the test process. It needs committed data (the server
  thread, and a real Celery worker when one is started, read the database through their own connections),
  so pytest-django makes such tests transactional and empties every table after each one. Seeding the demo
  data (`seed_demo`: referential, candidates, scores, deliberations, PDFs) takes far longer than a browser
  journey, so this package overrides `transactional_db`: the demo data is seeded and committed once for the
  package, every test runs on it without a wrapping transaction, and the tables are emptied once at the end
  (so tests of other packages start from an empty database, as usual). Consequence: a test never relies on
  the absence of data and creates the objects its journey changes (its own candidate, session...).
- Playwright's sync API keeps an asyncio loop marked as running in the main thread while it is started, and
  Django refuses ORM calls from a thread with a running loop. The test thread only does plain synchronous
  ORM work (seeding, reading the outbox), so DJANGO_ALLOW_ASYNC_UNSAFE is set while the browser lives, and
  restored when this package's tests are done (so the rest of the suite keeps Django's safety check).
"""

import contextlib
import io
import os
import shutil
import threading
from pathlib import Path

import pytest
from django.core.management import call_command

from .helpers import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, safe_name


def pytest_collection_modifyitems(config, items):
    # Skip before any fixture runs (no database seeding for nothing) when Chromium is not installed.
    if CHROMIUM.exists():
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"Chromium absent ({CHROMIUM}) : installer le paquet Debian « chromium ».")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so the page fixture can screenshot failures.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class _OneRequestAtATime:
    def __init__(self, application):
        self.application = application
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return self.application(environ, start_response)


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, built while MEDIA_URL is a string.

    The project sets MEDIA_URL = None (uploaded files are only streamed by permission-checked views), but
    Django's LiveServerThread always wraps the app in a media-files handler that parses MEDIA_URL and fails
    on None. The handler gets a path no page links to, and only while the server is built.
    """
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    )
    server = LiveServer(addr, start=False)
    if server.thread.connections_override:
        # In-memory SQLite: every request thread shares the test's single connection, which concurrent
        # requests (htmx autosaves, polling) cannot use at once ("database table is locked"). Requests are
        # handled one at a time (connections are still accepted in parallel: Chromium opens idle sockets in
        # advance, which would block a single-threaded server). PostgreSQL (CI) runs them in parallel.
        static_handler = server.thread.static_handler
        server.thread.static_handler = lambda app: _OneRequestAtATime(static_handler(app))
    with override_settings(MEDIA_URL="/__media-jamais-servi__/"):  # read when the thread builds its handler
        server.start()
    yield server
    server.stop()


_FAILURES_CLEARED = []


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium absent ({CHROMIUM}) : installer le paquet Debian « chromium » (voir .ci/run).")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    if not _FAILURES_CLEARED:
        # Once per run: a second browser (tests/evaluations/test_browser.py) must not wipe the failures
        # the first one recorded.
        shutil.rmtree(ARTIFACTS / "failures", ignore_errors=True)
        _FAILURES_CLEARED.append(True)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = None
    try:
        # LANGUAGE=fr: the browser's own texts (date fields, validation bubbles) in French, from the Debian
        # package chromium-l10n when installed (.ci/run installs it).
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=LAUNCH_ARGS,
            headless=True,
            env={**os.environ, "LANGUAGE": "fr", "LANG": "fr_FR.UTF-8"},
        )
        yield chromium
    finally:
        if chromium is not None:
            chromium.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _new_context(browser, live_server, **options):
    options = {
        "base_url": live_server.url,
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
        "viewport": {"width": 1280, "height": 900},
        "accept_downloads": True,
        **options,
    }
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(20_000)
    return context


class BrowserErrors(list):
    """JavaScript errors and Content-Security-Policy refusals seen on any page of the context."""

    def watch(self, page):
        page.on("pageerror", lambda exc: self.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error" and not _is_expected_console_error(msg.text)
                else None
            ),
        )
        return page


def _is_expected_console_error(text):
    # The browser logs every non-2xx document it loads; the tests that expect a 403/404 assert it themselves.
    return "Failed to load resource: the server responded with a status of" in text and (
        "403" in text or "404" in text
    )


@pytest.fixture
def new_page(browser, live_server, request):
    """Open pages in fresh contexts (one per role in a journey): `page = new_page()`; options of new_context."""
    contexts = []
    errors = BrowserErrors()

    def factory(**options):
        context = _new_context(browser, live_server, **options)
        contexts.append(context)
        return errors.watch(context.new_page())

    factory.errors = errors
    yield factory
    failed = getattr(request.node, "report_call", None) is not None and request.node.report_call.failed
    for index, context in enumerate(contexts):
        if failed:
            for number, page in enumerate(context.pages):
                failures = ARTIFACTS / "failures"
                failures.mkdir(parents=True, exist_ok=True)
                # A page already closed must not hide the real failure.
                stem = failures / f"{safe_name(request.node.name)}-{index}-{number}"
                with contextlib.suppress(Exception):
                    page.screenshot(path=stem.with_suffix(".png"), full_page=True)
                    # The page's URL and HTML too: a screenshot does not show where a navigation stopped.
                    stem.with_suffix(".html").write_text(
                        f"<!-- {page.url} -->\n{page.content()}", encoding="utf-8"
                    )
        context.close()
    if not failed:
        assert not errors, "Erreurs JavaScript ou CSP dans le navigateur :\n" + "\n".join(errors)


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(scope="package")
def e2e_database(browser, django_db_setup, django_db_blocker):
    """The demo data of every app (`manage.py seed_demo`), committed once for the whole package."""
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        # What TransactionTestCase does after each test, done once: the next packages find empty tables.
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def transactional_db(e2e_database, django_db_blocker):
    """Replaces pytest-django's per-test flush (see the module docstring): committed data, shared."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def demo(transactional_db):
    from core.models import User

    return {"users": {user.username: user for user in User.objects.all()}}


@pytest.fixture
def task_worker(request, live_server, tmp_path):
    """Run Celery tasks the way the environment says: a real worker with a broker (CI), in-process without.

    The worker (tests/conftest.py `celery_worker_process`) connects to the same test database; the data it
    reads is visible because live_server makes the tests run on committed data. The emails it sends are
    written to files (cqpm.settings_worker_test), read by `helpers.sent_emails`.
    """
    from django.conf import settings

    if not settings.CELERY_BROKER_URL:
        return None
    email_dir = tmp_path / "emails-worker"
    email_dir.mkdir()
    previous = os.environ.get("TEST_WORKER_EMAIL_DIR")
    os.environ["TEST_WORKER_EMAIL_DIR"] = str(email_dir)
    try:
        worker = request.getfixturevalue("celery_worker_process")
    finally:
        if previous is None:
            os.environ.pop("TEST_WORKER_EMAIL_DIR", None)
        else:
            os.environ["TEST_WORKER_EMAIL_DIR"] = previous
    worker.email_dir = email_dir
    return worker
