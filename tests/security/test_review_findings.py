"""Regression tests of the external security review (issue 19), one section per numbered finding.
Each test failed before its fix (see SECURITY.md « Findings of the 2026 external review »)."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from candidates import importing
from candidates.importing import ImportFileError, read_table
from candidates.models import ImportJob, ImportJobStatus
from tests.core.factories import CentreFactory, StaffFactory

HEADER = ["nom_naissance", "prenoms", "sexe", "date_naissance", "parcours", "cqpm"]


def _xlsx(rows):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for _index in range(rows):
        sheet.append(["A", "B", "F", "01/01/1990", "vae", "X"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _count_cells(monkeypatch):
    seen = {"cells": 0}
    original = importing._cell_to_text

    def counting(value):
        seen["cells"] += 1
        return original(value)

    monkeypatch.setattr(importing, "_cell_to_text", counting)
    return seen


# --- 1. decompression bomb ------------------------------------------------------------------


def test_xlsx_past_the_cap_is_refused_without_reading_the_rest(monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 50)
    content = _xlsx(3000)
    seen = _count_cells(monkeypatch)
    with pytest.raises(ImportFileError, match="plus de 50 lignes : au plus 50 candidats par import"):
        read_table(SimpleUploadedFile("bombe.xlsx", content))
    # streaming: the header and MAX_ROWS + 1 rows were read, not the 3000 of the file
    assert seen["cells"] <= (50 + 2) * len(HEADER)


def test_csv_past_the_cap_stops_reading(monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 50)
    lines = [";".join(HEADER)] + ["A;B;F;01/01/1990;vae;X"] * 3000
    seen = {"rows": 0}
    original = importing._capped

    def counting(rows):
        def counted():
            for row in rows:
                seen["rows"] += 1
                yield row

        return original(counted())

    monkeypatch.setattr(importing, "_capped", counting)
    with pytest.raises(ImportFileError, match="au plus 50 candidats par import"):
        read_table(SimpleUploadedFile("c.csv", "\n".join(lines).encode()))
    assert seen["rows"] <= 52


def test_xlsx_inflating_past_the_limit_is_refused_before_opening(monkeypatch):
    monkeypatch.setattr(importing, "MAX_XLSX_UNCOMPRESSED", 200 * 1024)
    content = _xlsx(10)
    # add a member of 1 MB of spaces: a few KB compressed
    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.xml", b" " * (1024 * 1024))
    opened = []
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1))
    with pytest.raises(ImportFileError, match="trop volumineux une fois décompressé"):
        read_table(SimpleUploadedFile("bombe.xlsx", buffer.getvalue()))
    assert not opened


@pytest.mark.django_db
def test_bomb_through_the_import_page_is_refused_with_the_limit(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importing, "MAX_ROWS", 20)
    centre = CentreFactory()
    staff = StaffFactory(centres=[centre])
    client.force_login(staff)
    upload = SimpleUploadedFile("bombe.xlsx", _xlsx(500))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("candidates:import"), {"centre": centre.pk, "file": upload})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.INVALID
    assert "au plus 20 candidats par import" in job.message


# --- 9. verification rate limit, client address of downloads, safe enqueue of imports ---------


@pytest.mark.django_db
def test_verification_page_is_rate_limited_per_client_address(client, monkeypatch):
    from deliberations import views as deliberation_views

    monkeypatch.setattr(deliberation_views, "VERIFY_PER_IP", 3)
    url = reverse("deliberations:verify_number", args=["CQPM-A-2026-INCONNU"])
    for _attempt in range(3):
        assert client.get(url, REMOTE_ADDR="203.0.113.7").status_code == 200
    refused = client.get(url, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert "Trop de vérifications" in refused.content.decode()
    assert "Numéro inconnu" not in refused.content.decode()
    # another client is not affected
    assert client.get(url, REMOTE_ADDR="203.0.113.8").status_code == 200


@pytest.mark.django_db
def test_candidate_document_download_logs_the_client_behind_the_proxy(client, settings):
    from core.models import AuditEvent
    from tests.candidates.factories import CandidateDocumentFactory, CandidateFactory

    settings.TRUSTED_PROXY_COUNT = 1
    centre = CentreFactory()
    staff = StaffFactory(centres=[centre])
    document = CandidateDocumentFactory(candidate=CandidateFactory(centre=centre))
    client.force_login(staff)
    url = reverse("candidates:document_download", args=[document.candidate_id, document.pk])
    response = client.get(url, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.23")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="document.downloaded", data__document="candidate_document")
    assert event.ip_address == "198.51.100.23"


@pytest.mark.django_db
def test_generated_document_download_logs_the_client_behind_the_proxy(client, settings):
    from django.core.files.base import ContentFile

    from core.models import AuditEvent
    from deliberations.models import DocumentKind, DocumentStatus, GeneratedDocument
    from tests.deliberations.factories import ready_session

    settings.TRUSTED_PROXY_COUNT = 1
    session = ready_session(n=1)
    document = GeneratedDocument(
        kind=DocumentKind.ATTENDANCE, session=session, number="EM-A-2026-TESTIP", status=DocumentStatus.DONE
    )
    document.file.save("em.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    document.is_current = True
    document.save()
    client.force_login(StaffFactory(centres=[session.centre]))
    response = client.get(
        reverse("deliberations:document_download", args=[document.pk]),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.24",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="document.downloaded")
    assert event.ip_address == "198.51.100.24"


def _broker_down(monkeypatch, task):
    from kombu.exceptions import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(task, "delay", down)


@pytest.mark.django_db
def test_import_upload_with_the_broker_down_answers_a_page_and_says_so(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    from candidates import tasks

    _broker_down(monkeypatch, tasks.validate_import)
    centre = CentreFactory()
    client.force_login(StaffFactory(centres=[centre]))
    upload = SimpleUploadedFile("c.xlsx", _xlsx(2))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("candidates:import"), {"centre": centre.pk, "file": upload})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.FAILED and "indisponible" in job.message
    assert not job.file  # the personal data of the file are not kept
    page = client.get(response["Location"])
    assert page.status_code == 200 and "indisponible" in page.content.decode()


@pytest.mark.django_db
def test_import_confirmation_with_the_broker_down_can_be_confirmed_again(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    from candidates import tasks

    centre = CentreFactory()
    staff = StaffFactory(centres=[centre])
    job = ImportJob.objects.create(
        centre=centre, created_by=staff, original_name="c.csv", status=ImportJobStatus.READY, rows_total=1
    )
    _broker_down(monkeypatch, tasks.commit_import)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("candidates:import_job_confirm", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJobStatus.READY and "indisponible" in job.message
    assert "Confirmez à nouveau" in client.get(response["Location"]).content.decode()


# --- 3. download names take the extension of the detected type ----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [
        ("rapport.hta", "rapport.pdf"),
        ("rapport.bat", "rapport.pdf"),
        ("rapport.html", "rapport.pdf"),
        ("rapport.svg", "rapport.pdf"),
        ("rapport\u202efdp.exe", "rapportfdp.pdf"),
        ("rapport final.PDF", "rapport final.pdf"),
        ("..\u2066.hta", "hta.pdf"),
    ],
)
def test_uploaded_pdf_is_stored_and_served_with_the_pdf_extension(client, uploaded, stored):
    from tests.candidates.factories import MINIMAL_PDF, CandidateFactory

    centre = CentreFactory()
    staff = StaffFactory(centres=[centre])
    candidate = CandidateFactory(centre=centre)
    client.force_login(staff)
    response = client.post(
        reverse("candidates:document_upload", args=[candidate.pk]),
        {"kind": "report", "file": SimpleUploadedFile(uploaded, MINIMAL_PDF)},
    )
    assert response.status_code == 302
    document = candidate.documents.get()
    assert document.original_name == stored
    download = client.get(reverse("candidates:document_download", args=[candidate.pk, document.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert f'filename="{stored}"' in download["Content-Disposition"]


@pytest.mark.django_db
def test_a_file_stored_before_the_rule_is_served_with_its_type_extension(client):
    from tests.candidates.factories import CandidateDocumentFactory, CandidateFactory

    centre = CentreFactory()
    document = CandidateDocumentFactory(
        candidate=CandidateFactory(centre=centre), original_name="rapport.hta"
    )
    client.force_login(StaffFactory(centres=[centre]))
    download = client.get(reverse("candidates:document_download", args=[document.candidate_id, document.pk]))
    assert 'filename="rapport.pdf"' in download["Content-Disposition"]


# --- 5. production defaults -------------------------------------------------------------------

OLD_COMPOSE_DEFAULT = "change-me-to-a-long-random-string-of-at-least-fifty-characters"


def test_production_settings_refuse_the_old_compose_placeholder_key():
    from tests.security.test_settings import production_env, run_manage

    result = run_manage("check", "--deploy", env=production_env(SECRET_KEY=OLD_COMPOSE_DEFAULT))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_compose_gives_no_default_key_and_trusts_no_forwarded_header():
    import yaml

    from tests.security.test_settings import ROOT

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    key = web["environment"]["SECRET_KEY"]
    assert key.startswith("${SECRET_KEY:?")  # compose stops when it is not given
    assert OLD_COMPOSE_DEFAULT not in (ROOT / "docker-compose.yml").read_text()
    if web.get("ports"):  # gunicorn reachable directly: the header is the client's own
        assert int(web["environment"].get("TRUSTED_PROXY_COUNT", 0)) == 0


@pytest.mark.django_db
def test_a_key_written_in_the_repository_is_refused_by_the_deploy_check(settings, tmp_path):
    import secrets

    from core.checks import check_secret_key_not_in_repository

    key = secrets.token_urlsafe(64)
    settings.SECRET_KEY = key
    settings.BASE_DIR = tmp_path
    (tmp_path / "README.md").write_text("SECRET_KEY=autre\n")
    assert check_secret_key_not_in_repository() == []
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "deploy.md").write_text(f"export SECRET_KEY={key}\n")
    (errors,) = check_secret_key_not_in_repository()
    assert errors.id == "cqpm.E001" and "docs/deploy.md" in errors.msg


@pytest.mark.django_db
def test_with_the_shipped_defaults_a_forged_forwarded_header_cannot_dodge_the_lockout(client, settings):
    import json

    from core.models import AuditEvent, User
    from tests.security.test_settings import production_env, run_manage

    env = production_env()
    env.pop("TRUSTED_PROXY_COUNT", None)
    result = run_manage(
        "shell", "-c", "from django.conf import settings as s; print(s.TRUSTED_PROXY_COUNT)", env=env
    )
    assert result.returncode == 0, result.stderr
    settings.TRUSTED_PROXY_COUNT = json.loads(result.stdout.strip().splitlines()[-1])
    User.objects.create_user("staff-x", password="Bon-mot-de-passe-2026", role="staff")
    login = reverse("login")
    statuses = [
        client.post(
            login,
            {"username": "staff-x", "password": "mauvais"},
            REMOTE_ADDR="192.0.2.10",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        ).status_code
        for attempt in range(settings.AXES_FAILURE_LIMIT + 7)
    ]
    assert statuses[settings.AXES_FAILURE_LIMIT - 1 :] == [429] * 8
    right = client.post(
        login,
        {"username": "staff-x", "password": "Bon-mot-de-passe-2026"},
        REMOTE_ADDR="192.0.2.10",
        HTTP_X_FORWARDED_FOR="203.0.113.200",
    )
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    addresses = set(AuditEvent.objects.filter(action="login_failed").values_list("ip_address", flat=True))
    assert addresses == {"192.0.2.10"}  # the journal records the real peer, not the forged header


# --- 6. enrolling or removing the second factor ends the other sessions -------------------------


def _verified_client(user, device):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from core.auth import OTP_REQUIRED_SESSION_KEY

    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[OTP_REQUIRED_SESSION_KEY] = True
    session.save()
    return client


def _code(device):
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.mark.django_db
def test_enrolling_the_second_factor_ends_the_sessions_opened_before():
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    centre = CentreFactory()
    user = StaffFactory(centres=[centre])
    before = Client()
    before.force_login(user)
    assert before.get(reverse("home")).status_code == 200
    enrolling = Client()
    enrolling.force_login(user)
    enrolling.get(reverse("core:otp_setup"))
    device = TOTPDevice.objects.get(user=user)
    assert enrolling.post(reverse("core:otp_setup"), {"code": _code(device)}).status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed
    # the session that enrolled goes on; the older one is logged out
    assert enrolling.get(reverse("home")).status_code == 200
    stale = before.get(reverse("home"))
    assert stale.status_code == 302 and stale["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_removing_the_second_factor_ends_the_other_sessions():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    centre = CentreFactory()
    user = StaffFactory(centres=[centre])
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    other = _verified_client(user, device)
    acting = _verified_client(user, device)
    assert other.get(reverse("home")).status_code == 200
    assert acting.post(reverse("core:otp_disable"), {"code": _code(device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert acting.get(reverse("home")).status_code == 200
    stale = other.get(reverse("home"))
    assert stale.status_code == 302 and stale["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_password_change_ends_the_other_sessions(password):
    from django.test import Client

    centre = CentreFactory()
    user = StaffFactory(centres=[centre])
    other, acting = Client(), Client()
    other.force_login(user)
    acting.force_login(user)
    new = "Nouveau-mot-de-passe-2026!"
    response = acting.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert acting.get(reverse("home")).status_code == 200
    assert other.get(reverse("home")).status_code == 302


# --- 2. an invitation link never opens an account that has a password ----------------------------


@pytest.mark.django_db
def test_staff_cannot_take_over_a_tutor_account_by_changing_its_address(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    from django.test import Client

    from core.models import AuditEvent
    from evaluations import services as evaluation_services
    from tests.evaluations.conftest import build_world

    with django_capture_on_commit_callbacks(execute=True):
        world = build_world()
    tutor = world.candidate.tutor
    account = tutor.user
    assert account is not None and account.has_usable_password()
    old_email = tutor.email
    client.force_login(world.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("candidates:tutor_update", args=[tutor.pk]),
            {
                "first_name": tutor.first_name,
                "last_name": tutor.last_name,
                "email": "pirate@staff-a.example",
                "function": tutor.function,
                "phone": tutor.phone,
            },
        )
    assert response.status_code == 302
    # the previous address is told, the journal keeps old → new
    assert any(old_email in message.to and "modifiée" in message.subject for message in mailoutbox)
    event = AuditEvent.objects.get(action="tutor.updated", target_id=str(tutor.pk))
    assert event.data["changes"] == {"email": [old_email, "pirate@staff-a.example"]}
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = evaluation_services.invite_tutor(candidate=world.candidate, by=world.staff)
    holder = Client()
    url = reverse("evaluations:invitation", args=[token])
    for method in ("get", "post"):
        answer = getattr(holder, method)(
            url, {"password1": "Pirate-2026-xyz!", "password2": "Pirate-2026-xyz!"}
        )
        assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))
        assert "_auth_user_id" not in holder.session
    account.refresh_from_db()
    assert not account.check_password("Pirate-2026-xyz!")
    with pytest.raises(Exception, match="connectez-vous avec votre mot de passe"):
        evaluation_services.accept_invitation(token=token, password="Pirate-2026-xyz!")


@pytest.mark.django_db
def test_changing_an_account_address_tells_the_old_one_and_journals_old_and_new(
    django_capture_on_commit_callbacks, mailoutbox
):
    from core.models import AuditEvent

    user = StaffFactory(centres=[CentreFactory()], email="ancienne@cqpm.example")
    with django_capture_on_commit_callbacks(execute=True):
        user.email = "nouvelle@cqpm.example"
        user.save()
    (message,) = [m for m in mailoutbox if "ancienne@cqpm.example" in m.to]
    assert "remplacée" in message.body
    event = AuditEvent.objects.get(action="user.identity_changed", target_id=str(user.pk))
    assert event.data["changes"] == {"email": ["ancienne@cqpm.example", "nouvelle@cqpm.example"]}
    # a save that changes no identity field journals nothing more
    user.save(update_fields=["last_login"])
    user.save()
    assert AuditEvent.objects.filter(action="user.identity_changed").count() == 1


# --- 7. audit gaps: 404 outside one's scope, throttled codes; alert on the journal page ------------


@pytest.mark.django_db
def test_an_object_outside_the_scope_is_journaled_and_a_scan_cannot_flood_the_journal(client):
    from core.models import AuditEvent
    from core.services import SCAN_EVENTS_LIMIT
    from tests.candidates.factories import CandidateFactory

    centre, other_centre = CentreFactory(), CentreFactory()
    staff = StaffFactory(centres=[centre])
    foreign = CandidateFactory(centre=other_centre)
    client.force_login(staff)
    url = reverse("candidates:detail", args=[foreign.pk])
    assert client.get(url, REMOTE_ADDR="192.0.2.44").status_code == 404
    event = AuditEvent.objects.get(action="object_not_found")
    assert event.actor == staff and event.message == url and event.ip_address == "192.0.2.44"
    assert event.data["method"] == "GET"
    # a scan: the journal keeps the limit, then one « suppressed » event, then nothing more
    for _attempt in range(SCAN_EVENTS_LIMIT * 3):
        assert client.get(url).status_code == 404
    assert AuditEvent.objects.filter(action="object_not_found", actor=staff).count() == SCAN_EVENTS_LIMIT
    suppressed = AuditEvent.objects.get(action="audit.flood_suppressed", actor=staff)
    assert suppressed.data["suppressed_action"] == "object_not_found"
    # an unknown URL (no view) is not an object request: nothing journaled
    before = AuditEvent.objects.count()
    assert client.get("/pas-une-page/").status_code == 404
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_codes_tried_while_throttled_are_journaled():
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.auth import OTP_REQUIRED_SESSION_KEY
    from core.models import AuditEvent

    user = StaffFactory(centres=[CentreFactory()])
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[OTP_REQUIRED_SESSION_KEY] = True
    session.save()
    right = _code(device)
    wrong = "000000" if right != "000000" else "111111"
    client.post(reverse("core:otp_verify"), {"code": wrong})
    throttled = client.post(reverse("core:otp_verify"), {"code": right})
    assert "Trop de codes erronés" in throttled.content.decode()
    event = AuditEvent.objects.get(action="otp_throttled")
    assert event.actor == user and event.centre_id == user.centres.get().pk


@pytest.mark.django_db
def test_the_journal_page_alerts_on_an_account_producing_many_refusals(client):
    from core.audit import ALERT_THRESHOLD
    from core.services import audit

    centre = CentreFactory()
    staff = StaffFactory(centres=[centre])
    scanner = StaffFactory(centres=[centre], first_name="Paul", last_name="Balayeur")
    quiet = StaffFactory(centres=[centre], first_name="Anne", last_name="Tranquille")
    for _index in range(ALERT_THRESHOLD):
        audit(actor=scanner, action="object_not_found", centre=centre)
    for _index in range(ALERT_THRESHOLD - 1):
        audit(actor=quiet, action="permission_denied", centre=centre)
    client.force_login(staff)
    body = client.get(reverse("core:audit_log")).content.decode()
    assert "ne s'agit pas d'un balayage" in body
    assert f'href="?actor={scanner.username}">Paul Balayeur</a>' in body
    assert f"?actor={quiet.pk}" not in body
    # another centre's staff do not see the alert on events they cannot read
    client.force_login(StaffFactory(centres=[CentreFactory()]))
    assert "balayage" not in client.get(reverse("core:audit_log")).content.decode()


# --- 4. bidirectional controls stripped at input, and from every PDF ---------------------------

RLO = "\u202e"


@pytest.mark.django_db
def test_bidi_controls_are_stripped_from_a_form_input(client):
    from tests.candidates.factories import CompanyFactory

    centre = CentreFactory()
    company = CompanyFactory(centre=centre)
    client.force_login(StaffFactory(centres=[centre]))
    response = client.post(
        reverse("candidates:company_update", args=[company.pk]),
        {
            "name": f"Forges {RLO}enidroL\u2066 — Lorraine\u200f",
            "siret": company.siret,
            "address": company.address,
            "postcode": company.postcode,
            "city": company.city,
            "opco": company.opco,
        },
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.name == "Forges enidroL — Lorraine"


@pytest.mark.django_db
def test_bidi_controls_are_stripped_by_every_save_of_the_services():
    centre = CentreFactory(name=f"UIMM Centre A {RLO}— Lorraine")
    centre.refresh_from_db()
    assert centre.name == "UIMM Centre A — Lorraine"


def test_bidi_controls_are_stripped_from_imported_cells():
    content = (";".join(HEADER) + f"\nDUPONT{RLO}TNEIRUAL;Marie\u2067;F;01/01/1990;vae;X\n").encode()
    (row,) = read_table(SimpleUploadedFile("c.csv", content))
    assert row["values"]["nom_naissance"] == "DUPONTTNEIRUAL"
    assert row["values"]["prenoms"] == "Marie"


@pytest.mark.django_db
def test_bidi_controls_are_stripped_from_an_imported_referential():
    import json

    from referential.models import Criterion
    from referential.services import import_certification
    from tests.security.test_settings import ROOT

    data = json.loads((ROOT / "fixtures/referential/cqpm-charge-ressources-humaines.json").read_text())
    data["version"] = 99
    data["blocks"][0]["competencies"][0]["criteria"][0]["text"] = f"Les {RLO}sétilibasnopser sont claires"
    data["mission"] = f"{RLO}{data['mission']}"
    certification = import_certification(data=data)
    assert RLO not in certification.mission
    criterion = Criterion.objects.filter(competency__certification=certification).order_by(
        "competency__number", "order"
    )[0]
    assert criterion.text == "Les sétilibasnopser sont claires"


def test_pdf_rendering_removes_bidi_controls_from_the_page(monkeypatch):
    from core import pdf

    seen = {}

    class FakeHTML:
        def __init__(self, *, string, **kwargs):
            seen["html"] = string

        def render(self, **kwargs):
            return None

    monkeypatch.setattr(pdf, "HTML", FakeHTML)
    pdf.render_html(f"<p>UIMM Centre A {RLO}— Lorraine\u2066x\u2069</p>")
    assert seen["html"] == "<p>UIMM Centre A — Lorrainex</p>"


# --- 8. every free-text field has a maximum length: forms, services, database ------------------

# Written by the platform, never typed by a user (messages of tasks, bodies of e-mails, the journal).
SYSTEM_TEXT_FIELDS = {
    "core.AuditEvent.message",
    "core.Notification.body_text",
    "core.Notification.body_html",
    "core.Notification.error",
    "candidates.ImportJob.message",
    "deliberations.GeneratedDocument.error",
}


def _text_fields():
    from django.apps import apps
    from django.db import models

    from core.text import PROJECT_APPS

    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS or model.__name__.startswith("Historical"):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.TextField):
                yield f"{model._meta.app_label}.{model.__name__}.{field.name}", model, field


def test_every_free_text_field_has_a_maximum_length_and_a_database_check():
    missing = []
    for label, model, field in _text_fields():
        if label in SYSTEM_TEXT_FIELDS:
            continue
        names = {constraint.name for constraint in model._meta.constraints}
        if not field.max_length or not any(name.endswith(f"_{field.name}_maxlen") for name in names):
            missing.append(label)
    assert missing == []


@pytest.mark.django_db
def test_a_two_million_character_reason_is_refused_with_the_limit(client):
    from candidates.models import CandidateStatus, CandidateStatusChange
    from tests.candidates.factories import CandidateFactory

    centre = CentreFactory()
    candidate = CandidateFactory(centre=centre, status=CandidateStatus.REGISTERED)
    client.force_login(StaffFactory(centres=[centre]))
    response = client.post(
        reverse("candidates:transition", args=[candidate.pk]),
        {"to_status": CandidateStatus.WITHDRAWN, "reason": "x" * 2_000_000},
        follow=True,
    )
    assert response.status_code == 400  # the candidate page again, the form with its error
    assert "au plus 2000 caractères (actuellement 2000000)" in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.REGISTERED
    assert not CandidateStatusChange.objects.filter(
        candidate=candidate, to_status=CandidateStatus.WITHDRAWN
    ).exists()


@pytest.mark.django_db
def test_a_service_saving_an_overlong_text_gets_a_french_refusal():
    from core.exceptions import BusinessRuleError
    from evaluations.models import ScoringSheet
    from tests.evaluations.factories import ScoringSheetFactory

    sheet = ScoringSheetFactory()
    sheet.justification = "x" * 5001
    with pytest.raises(BusinessRuleError, match="5000 caractères au plus"):
        sheet.save()
    assert ScoringSheet.objects.get(pk=sheet.pk).justification != sheet.justification


@pytest.mark.django_db
def test_the_database_refuses_an_overlong_text_written_around_the_services():
    from django.db import IntegrityError, transaction

    from candidates.models import CandidateStatusChange
    from tests.candidates.factories import CandidateFactory

    candidate = CandidateFactory()
    change = CandidateStatusChange.objects.create(candidate=candidate, to_status="registered", reason="ok")
    with pytest.raises(IntegrityError), transaction.atomic():
        CandidateStatusChange.objects.filter(pk=change.pk).update(reason="x" * 2001)


@pytest.mark.django_db
def test_an_overlong_opinion_comment_is_refused_and_the_typed_text_kept(django_capture_on_commit_callbacks):
    from django.test import Client

    from evaluations import services as evaluation_services
    from evaluations.models import CompanyOpinion
    from tests.evaluations.conftest import build_world

    with django_capture_on_commit_callbacks(execute=True):
        world = build_world()
        evaluation_services.invite_tutor(candidate=world.candidate, by=world.staff)
    opinions = list(CompanyOpinion.objects.filter(candidate=world.candidate).order_by("competency__number"))
    tutor = Client()
    tutor.force_login(world.candidate.tutor.user)
    long_comment = "é" * 5001
    data = {f"o-{o.competency_id}": "favourable" for o in opinions}
    data[f"m-{opinions[0].competency_id}"] = "Très bon travail"
    data[f"m-{opinions[-1].competency_id}"] = long_comment
    response = tutor.post(reverse("evaluations:opinion", args=[world.candidate.pk]), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "5000 caractères au plus (5001 saisis)" in body
    assert long_comment in body and "Très bon travail" in body  # nothing typed is lost
    assert not CompanyOpinion.objects.filter(candidate=world.candidate).exclude(comment="").exists()
