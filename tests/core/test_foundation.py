import io
import uuid
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from core.demo import DEMO_ACCOUNTS
from core.models import AuditEvent, Role, User, WorkerProbe

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_login_page_is_french(client):
    response = client.get(reverse("login"))
    body = response.content.decode()
    assert '<html lang="fr">' in body
    assert "Connexion" in body and "Mot de passe" in body
    assert "Password" not in body


@pytest.mark.django_db
def test_anonymous_home_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_every_demo_account_logs_in(client, password):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert User.objects.filter(username__in=[a[0] for a in DEMO_ACCOUNTS]).count() == len(DEMO_ACCOUNTS)
    for username, role, *_ in DEMO_ACCOUNTS:
        client.logout()
        response = client.post(reverse("login"), {"username": username, "password": password})
        assert response.status_code == 302, username
        assert response.wsgi_request.user.username == username
        assert response.wsgi_request.user.role == role
    assert User.objects.get(username="admin").is_superuser
    assert set(User.objects.get(username="staff-a").centres.values_list("code", flat=True)) == {"A"}
    assert AuditEvent.objects.filter(action="login").count() == len(DEMO_ACCOUNTS)


@pytest.mark.django_db
@override_settings(DEMO_DATA_ALLOWED=False)
def test_seed_demo_refused_in_production():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.filter(username="staff-a").exists()


@pytest.fixture
def fake_reverse(monkeypatch):
    """navigation's reverse() replaced; its per-process entries rebuilt before and after."""
    from core import navigation

    monkeypatch.setattr(navigation, "reverse", lambda name: f"/{name}/")
    navigation.clear_caches()
    yield navigation
    monkeypatch.undo()
    navigation.clear_caches()


@pytest.mark.django_db
def test_navigation_shows_each_role_only_its_entries(django_user_model, fake_reverse):
    navigation = fake_reverse
    tutor = django_user_model.objects.create_user("t", password="x", role=Role.TUTOR)
    staff = django_user_model.objects.create_user("s", password="x", role=Role.STAFF)
    tutor_entries = {item["url"] for item in navigation.navigation_for(tutor)}
    staff_entries = {item["url"] for item in navigation.navigation_for(staff)}
    assert tutor_entries == {"/home/", "/evaluations:opinions_todo/"}
    assert {"/candidates:list/", "/core:audit_log/"} <= staff_entries
    assert "/evaluations:opinions_todo/" not in staff_entries


@pytest.mark.django_db
def test_healthz_ok_when_database_and_broker_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok"
    assert data["database"] == "ok"
    assert data["broker"] in {"ok", "eager"}


@pytest.mark.django_db
def test_healthz_503_when_broker_down(client, settings):
    # Nothing listens on port 1: the broker is "down".
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] != "ok"
    assert response.json()["status"] == "error"


@pytest.mark.django_db
def test_healthz_503_when_database_down(client, monkeypatch):
    from core import health

    def broken():
        return False, "OperationalError"

    monkeypatch.setattr(health, "check_database", broken)
    monkeypatch.setattr("core.views.check_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "OperationalError"


def test_docker_compose_declares_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker"} <= set(services)
    assert "postgres" in services["db"]["image"]
    assert "redis" in services["redis"]["image"]
    # web and worker share one image definition
    assert services["web"]["build"] == services["worker"]["build"]
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "celery" in " ".join(services["worker"]["command"])
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        assert env["DJANGO_SETTINGS_MODULE"] == "cqpm.settings_production"
        assert "SECRET_KEY" in env


@pytest.mark.django_db
def test_audit_events_are_append_only():
    from core.models import AppendOnlyError
    from core.services import audit

    event = audit(action="test")
    event.message = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.django_db
def test_csp_header_forbids_inline_script(client):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.worker
def test_real_celery_worker_writes_to_the_database(celery_worker_process):
    from core.tasks import probe

    token = uuid.uuid4().hex
    result = probe.delay(token)
    assert result.get(timeout=60) == token
    assert WorkerProbe.objects.filter(token=token).exists()


def test_production_static_files_collect_with_the_manifest_storage(tmp_path, settings):
    """The Dockerfile runs collectstatic with WhiteNoise's manifest storage: a dangling reference
    (e.g. a vendored file pointing at a missing source map) would break the production image."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/bootstrap/bootstrap.min.css" in manifest
    assert "css/app.css" in manifest
