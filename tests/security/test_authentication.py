"""Authentication hardening: lockout, password rules, session expiry, TOTP second factor, reset."""

import time
import types

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent, CertificationCentre, Role, User

PASSWORD = "Un-mot-de-passe-solide-2026"


@pytest.fixture
def centre_a(db):
    return CertificationCentre.objects.create(code="A", name="Centre A")


def make_user(username, role=Role.STAFF, centre=None, **extra):
    user = User.objects.create_user(
        username, email=f"{username}@example.org", password=PASSWORD, role=role, **extra
    )
    if centre is not None:
        user.centres.add(centre)
    return user


def code_for(device, offset=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def login(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


# --- Lockout (django-axes) --------------------------------------------------------------------


@pytest.mark.django_db
def test_five_failed_logins_lock_the_account_even_with_the_right_password(client, centre_a):
    make_user("staff-a", centre=centre_a)
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    statuses = [login(client, "staff-a", "mauvais").status_code for _ in range(limit)]
    # The first failures re-render the form; the limit-th one answers with the lockout page.
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert statuses[-1] == 429
    locked = login(client, "staff-a")
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Compte temporairement bloqué" in body
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login_failed").count() >= limit
    assert AuditEvent.objects.filter(action="login_locked_out").exists()
    assert not AuditEvent.objects.filter(action="login").exists()
    # No username nor e-mail address in the journal.
    for event in AuditEvent.objects.all():
        assert "staff-a" not in event.message and "staff-a" not in str(event.data)


@pytest.mark.django_db
def test_lockout_is_per_account_and_address(client, centre_a):
    make_user("staff-a", centre=centre_a)
    make_user("staff-b", centre=centre_a)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "staff-a", "mauvais")
    assert login(client, "staff-a").status_code == 429
    # Another account from the same address still logs in.
    assert login(client, "staff-b").status_code == 302
    # The same account from another address too (the pair account + IP is locked).
    client.logout()
    assert login(client, "staff-a", REMOTE_ADDR="10.1.2.3").status_code == 302


@pytest.mark.django_db
def test_a_successful_login_resets_the_failure_counter(client, centre_a):
    make_user("staff-a", centre=centre_a)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "staff-a", "mauvais")
    assert login(client, "staff-a").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "staff-a", "mauvais").status_code == 200
    assert login(client, "staff-a").status_code == 302


@pytest.mark.django_db
def test_failed_login_is_audited_without_the_username(client, centre_a):
    make_user("staff-a", centre=centre_a)
    response = login(client, "staff-a", "mauvais")
    assert response.status_code == 200
    assert "Saisissez un nom d’utilisateur et un mot de passe valides" in response.content.decode()
    event = AuditEvent.objects.get(action="login_failed")
    assert event.actor is None and event.ip_address == "127.0.0.1"
    assert "staff-a" not in str(event.data) + event.message


@pytest.mark.django_db
def test_login_event_is_filed_under_the_users_only_centre(client, centre_a):
    make_user("staff-a", centre=centre_a)
    assert login(client, "staff-a").status_code == 302
    event = AuditEvent.objects.get(action="login")
    assert event.centre == centre_a and event.actor.username == "staff-a"


# --- Password rules and session ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("new_password", "expected_error"),
    [
        ("court1", "Ce mot de passe est trop court"),
        ("12345678901", "Ce mot de passe est entièrement numérique"),
        ("motdepasse", "Ce mot de passe est trop courant"),
        ("staff-alpha-x", "Le mot de passe est trop semblable"),
    ],
)
def test_password_validators_reject_weak_passwords(client, centre_a, new_password, expected_error):
    user = make_user("staff-alpha-x", centre=centre_a)
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 200
    assert expected_error in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_strong_password_is_accepted(client, centre_a):
    user = make_user("staff-a", centre=centre_a)
    client.force_login(user)
    new = "Forge-Lorraine-Acier-88"
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


@pytest.mark.django_db
def test_session_expires_after_a_working_day_and_at_browser_close(client, centre_a):
    make_user("staff-a", centre=centre_a)
    login(client, "staff-a")
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert client.session.get_expire_at_browser_close() is True
    assert 0 < client.session.get_expiry_age() <= 8 * 3600
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert not cookie["expires"] and not cookie["max-age"]  # a browser-session cookie


# --- Password reset ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_password_reset_does_not_reveal_whether_an_account_exists(client, centre_a):
    make_user("staff-a", centre=centre_a)
    known = client.post(reverse("password_reset"), {"email": "staff-a@example.org"})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["staff-a@example.org"]
    assert "/compte/reinitialisation/" in mail.outbox[0].body
    unknown = client.post(reverse("password_reset"), {"email": "personne@example.org"})
    assert len(mail.outbox) == 1  # nothing sent for an unknown address
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    done = client.get(reverse("password_reset_done")).content.decode()
    assert "Si un compte correspond à cette adresse" in done


@pytest.mark.django_db
def test_password_reset_sends_nothing_to_a_deactivated_account(client, centre_a):
    make_user("ancien", centre=centre_a, is_active=False)
    response = client.post(reverse("password_reset"), {"email": "ancien@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_reset_link_sets_a_new_password_once(client, centre_a):
    user = make_user("staff-a", centre=centre_a)
    client.post(reverse("password_reset"), {"email": "staff-a@example.org"})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/compte/reinitialisation/" in line)
    path = link.split("testserver", 1)[1].strip()
    form_page = client.get(path, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    new = "Forge-Lorraine-Acier-88"
    assert client.post(set_url, {"new_password1": new, "new_password2": new}).status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    # The link cannot be used a second time.
    again = client.get(path, follow=True)
    assert again.context["validlink"] is False
    assert "plus valide" in again.content.decode()


# --- Two-factor authentication (django-otp, TOTP) -----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "superuser", "allowed"),
    [
        (Role.STAFF, False, True),
        (Role.STAFF, True, True),
        (Role.JURY, False, True),
        (Role.EVALUATOR, False, False),
        (Role.TUTOR, False, False),
    ],
)
def test_enrolment_is_offered_to_staff_and_jury_only(client, centre_a, role, superuser, allowed):
    user = make_user("u", role=role, centre=centre_a, is_superuser=superuser)
    client.force_login(user)
    response = client.get(reverse("core:otp_setup"))
    if allowed:
        assert response.status_code == 200
        body = response.content.decode()
        assert "<svg" in body and "Code à 6 chiffres" in body
        assert TOTPDevice.objects.filter(user=user, confirmed=False).count() == 1
    else:
        assert response.status_code == 403
        assert not TOTPDevice.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_enrolment_confirms_the_device_only_with_a_valid_code(client, centre_a):
    user = make_user("jury-a", role=Role.JURY, centre=centre_a)
    client.force_login(user)
    page = client.get(reverse("core:otp_setup")).content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert f"secret={device.config_url.split('secret=')[1].split('&')[0]}" in device.config_url
    assert "Clé secrète" in page
    wrong = client.post(
        reverse("core:otp_setup"), {"code": "000000" if code_for(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 200 and "n&#x27;est pas valide" in wrong.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    device.throttle_reset()
    ok = client.post(reverse("core:otp_setup"), {"code": code_for(device)})
    assert ok.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert AuditEvent.objects.filter(action="otp_enrolled", actor=user).exists()
    # The session that enrolled is verified: pages open without a second prompt.
    assert client.get(reverse("home")).status_code == 200
    status = client.get(reverse("core:otp_setup")).content.decode()
    assert "La double authentification est active" in status


@pytest.mark.django_db
def test_user_with_device_must_enter_a_code_after_the_password(client, centre_a):
    user = make_user("staff-a", centre=centre_a)
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    response = login(client, "staff-a")
    assert response.status_code == 302
    # The guard: logged in, but not verified → every page leads to the verification step.
    home = client.get(reverse("home"))
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("core:otp_verify"))
    assert client.get(reverse("core:notifications"))["Location"].startswith(reverse("core:otp_verify"))
    assert client.post(reverse("password_change"), {})["Location"] == reverse("core:otp_verify")
    verify_page = client.get(home["Location"])
    assert verify_page.status_code == 200
    assert "Vérification en deux étapes" in verify_page.content.decode()
    bad = client.post(reverse("core:otp_verify"), {"code": "12345a", "next": "/messages/"})
    assert bad.status_code == 200
    assert client.get(reverse("home")).status_code == 302
    good = client.post(reverse("core:otp_verify"), {"code": code_for(device), "next": "/messages/"})
    assert good.status_code == 302 and good["Location"] == "/messages/"
    assert client.get(reverse("home")).status_code == 200
    assert AuditEvent.objects.filter(action="otp_verified", actor=user).exists()


@pytest.mark.django_db
def test_wrong_codes_are_audited_and_throttled(client, centre_a):
    user = make_user("staff-a", centre=centre_a)
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    client.force_login(user)
    right = code_for(device)
    wrong = "000000" if right != "000000" else "111111"
    client.post(reverse("core:otp_verify"), {"code": wrong})
    # Right after a failure, django-otp's throttle refuses even the right code.
    throttled = client.post(reverse("core:otp_verify"), {"code": right})
    assert "Trop de codes erronés" in throttled.content.decode()
    assert client.get(reverse("home")).status_code == 302
    assert AuditEvent.objects.filter(action="otp_failed", actor=user).count() == 1


@pytest.mark.django_db
def test_verification_ignores_an_external_next_url(client, centre_a):
    user = make_user("staff-a", centre=centre_a)
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    client.force_login(user)
    response = client.post(
        reverse("core:otp_verify"), {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_user_without_device_is_not_asked_for_a_code(client, centre_a):
    make_user("staff-a", centre=centre_a)
    login(client, "staff-a")
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("core:otp_verify"))["Location"] == reverse("home")


@pytest.mark.django_db
def test_logout_stays_possible_before_verification(client, centre_a):
    user = make_user("staff-a", centre=centre_a)
    TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


@pytest.fixture
def frozen_totp_clock(monkeypatch):
    """django-otp's clock stopped in the middle of a 30-s step: a code computed by the test and checked
    by the server belong to the same step (crossing a step's boundary between the two made the server
    re-synchronise its drift and refuse the next step's code)."""
    now = (int(time.time()) // 30) * 30 + 15.0
    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", types.SimpleNamespace(time=lambda: now))
    return now


def code_at(device, now, offset=0):
    clock = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset)
    clock.time = now
    return f"{clock.token():06d}"


@pytest.mark.django_db
def test_disabling_needs_a_verified_session_and_a_current_code(client, centre_a, frozen_totp_clock):
    user = make_user("staff-a", centre=centre_a)
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    client.force_login(user)
    response = client.post(reverse("core:otp_verify"), {"code": code_at(device, frozen_totp_clock)})
    assert response.status_code == 302
    next_code = code_at(device, frozen_totp_clock, offset=1)  # not used yet: the server still takes it
    wrong = "000000" if next_code != "000000" else "111111"
    client.post(reverse("core:otp_disable"), {"code": wrong})
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    device.refresh_from_db()
    device.throttle_reset()
    response = client.post(reverse("core:otp_disable"), {"code": next_code})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="otp_disabled", actor=user).exists()
    assert client.get(reverse("home")).status_code == 200


# --- Client address behind the proxy ------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "", "10.0.0.1"),
        (0, "203.0.113.7", "10.0.0.1"),  # no trusted proxy: the header is ignored (forgeable)
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client forged the left part
        (2, "6.6.6.6, 203.0.113.7, 10.9.9.9", "203.0.113.7"),
        (1, "", "10.0.0.1"),  # a request that did not go through the proxy
        (1, "pas-une-adresse", "10.0.0.1"),
        (3, "203.0.113.7", "10.0.0.1"),
    ],
)
def test_client_ip(rf, settings, proxies, forwarded, expected):
    from core.auth import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_behind_the_proxy_one_client_locked_out_does_not_lock_another(client, settings, centre_a):
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("staff-a", centre=centre_a)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "staff-a", "mauvais", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert login(client, "staff-a", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert login(client, "staff-a", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302
    assert set(AuditEvent.objects.filter(action="login_failed").values_list("ip_address", flat=True)) == {
        "198.51.100.1"
    }


@pytest.mark.django_db
def test_successful_logins_are_not_duplicated_in_axes_access_log(client, centre_a):
    from axes.models import AccessLog

    make_user("staff-a", centre=centre_a)
    assert login(client, "staff-a").status_code == 302
    assert AccessLog.objects.count() == 0
    assert AuditEvent.objects.filter(action="login").count() == 1
