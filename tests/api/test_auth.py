"""Logging in with tokens: lockout, second factor, expiry, rotation and revocation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import User
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from cer.api.authentication import ApiAccessToken, ApiRefreshToken
from tests.api.conftest import PASSWORD, assert_error

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD, **extra):
    return client.post(
        "/api/v1/auth/login", {"username": username, "password": password, **extra}, format="json"
    )


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def user(personas):
    return personas["member"]


def test_login_returns_an_access_and_a_refresh_token_that_work(user):
    response = login(APIClient(), "a-mem")

    assert response.status_code == 200
    assert bearer(response.json()["access"]).get("/api/v1/me").json()["username"] == "a-mem"


def test_the_seed_login_path_is_an_alias(user):
    response = APIClient().post(
        "/api/login", {"username": "a-mem", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_a_wrong_password_is_a_401_that_does_not_say_which_part_was_wrong(user):
    wrong_password = login(APIClient(), "a-mem", "nope")
    unknown_user = login(APIClient(), "nobody", "nope")

    assert assert_error(wrong_password, 401, "invalid_credentials") == assert_error(
        unknown_user, 401, "invalid_credentials"
    )


def test_five_failures_lock_the_username_and_address_out_with_retry_after(user):
    client = APIClient()
    for _attempt in range(5):
        assert login(client, "a-mem", "wrong").status_code == 401

    locked = login(client, "a-mem")  # even the right password

    assert_error(locked, 429, "locked_out")
    assert 1 <= int(locked["Retry-After"]) <= 15 * 60


def test_the_lockout_is_per_address(user):
    for _attempt in range(5):
        login(APIClient(REMOTE_ADDR="10.0.0.1"), "a-mem", "wrong")

    response = login(APIClient(REMOTE_ADDR="10.0.0.2"), "a-mem")

    assert response.status_code == 200


def test_a_success_clears_earlier_failures(user):
    client = APIClient()
    for _attempt in range(4):
        login(client, "a-mem", "wrong")
    login(client, "a-mem")

    for _attempt in range(4):
        login(client, "a-mem", "wrong")

    assert login(client, "a-mem").status_code == 200


def test_login_attempts_are_throttled_per_address(user, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "login", "2/min")
    client = APIClient()
    login(client, "x1", "wrong")
    login(client, "x2", "wrong")

    response = login(client, "x3", "wrong")

    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


@pytest.fixture
def no_otp_throttle(settings):
    # django-otp delays retries after a wrong code; these tests send one on purpose.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_a_user_with_a_confirmed_authenticator_must_give_its_code(user, no_otp_throttle):
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client = APIClient()

    without = login(client, "a-mem")
    wrong = login(client, "a-mem", otp="000000" if _code(device) != "000000" else "111111")
    right = login(client, "a-mem", otp=_code(device))

    assert "otp" in assert_error(without, 401, "otp_required")["fields"]
    assert_error(wrong, 401, "otp_required")
    assert right.status_code == 200


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_enrolling_an_authenticator_needs_a_valid_code_to_confirm(user, no_otp_throttle):
    client = bearer(login(APIClient(), "a-mem").json()["access"])
    assert client.post("/api/v1/me/second-factor").status_code == 201
    device = TOTPDevice.objects.get(user=user)

    refused = client.post("/api/v1/me/second-factor/confirm", {"otp": "12"}, format="json")
    accepted = client.post(
        "/api/v1/me/second-factor/confirm", {"otp": _code(device)}, format="json"
    )

    assert_error(refused, 400, "invalid")
    assert accepted.status_code == 200
    assert len(accepted.json()["recovery_codes"]) == 10
    assert login(APIClient(), "a-mem").status_code == 401


def test_an_expired_access_token_is_refused(user):
    token = ApiRefreshToken.for_user(user).access_token
    token.set_exp(from_time=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))

    response = bearer(str(token)).get("/api/v1/me")

    assert_error(response, 401)


def test_refreshing_rotates_the_refresh_token_and_the_old_one_stops_working(user):
    pair = login(APIClient(), "a-mem").json()
    client = APIClient()

    first = client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}, format="json")
    again = client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}, format="json")

    assert first.status_code == 200
    assert first.json()["refresh"] != pair["refresh"]
    assert_error(again, 401, "token_not_valid")


def test_logout_revokes_the_refresh_and_the_access_token(user):
    pair = login(APIClient(), "a-mem").json()
    client = bearer(pair["access"])

    response = client.post("/api/v1/auth/logout", {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204
    assert_error(client.get("/api/v1/me"), 401)
    assert_error(
        APIClient().post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}, format="json"),
        401,
    )


def test_changing_the_password_revokes_every_token(user):
    pair = login(APIClient(), "a-mem").json()
    client = bearer(pair["access"])

    response = client.post(
        "/api/v1/me/password",
        {"current_password": PASSWORD, "new_password": "un-altra-password-lunga-42"},
        format="json",
    )

    assert response.status_code == 204
    assert_error(client.get("/api/v1/me"), 401)
    assert_error(
        APIClient().post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}, format="json"),
        401,
    )
    assert login(APIClient(), "a-mem", "un-altra-password-lunga-42").status_code == 200


def test_a_password_changed_elsewhere_also_ends_the_tokens(user):
    access = login(APIClient(), "a-mem").json()["access"]
    user.set_password("cambiata-dal-sito-web-7")
    user.save()

    assert_error(bearer(access).get("/api/v1/me"), 401)


def test_a_weak_new_password_is_refused_naming_the_field(user):
    client = bearer(login(APIClient(), "a-mem").json()["access"])

    response = client.post(
        "/api/v1/me/password",
        {"current_password": PASSWORD, "new_password": "123"},
        format="json",
    )

    assert "new_password" in assert_error(response, 400, "invalid")["fields"]


def test_a_deactivated_user_cannot_use_their_token(user):
    access = login(APIClient(), "a-mem").json()["access"]
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_error(bearer(access).get("/api/v1/me"), 401)


def test_session_writes_need_the_csrf_token(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/api/v1/me/consents", {"purpose": "NEWSLETTER"}, format="json")

    assert_error(response, 403, "permission_denied")
    assert "CSRF" in response.json()["error"]["message"]


def test_session_reads_work_without_a_token(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.get("/api/v1/me").status_code == 200


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
)
def test_passwords_are_stored_with_argon2(db):
    created = User.objects.create_user("argon", password=PASSWORD)

    assert identify_hasher(created.password).algorithm == "argon2"


def test_access_tokens_carry_no_password_material(user):
    token = ApiAccessToken(login(APIClient(), "a-mem").json()["access"])

    assert PASSWORD not in str(token.payload)
    assert user.password not in str(token.payload)


def test_a_staff_session_needs_its_second_factor_or_a_strong_login(db):
    from django_otp import DEVICE_ID_SESSION_KEY

    from cer.accounts.views import STRONG_LOGIN_KEY

    staff = User.objects.create_user("staff-api", password=PASSWORD, is_staff=True)
    client = APIClient()
    client.force_login(staff)
    assert client.get("/api/v1/me").status_code == 200
    # The same session before the second factor (the test login passes it for us).
    session = client.session
    del session[DEVICE_ID_SESSION_KEY]
    session.save()

    assert client.get("/api/v1/me").status_code == 401

    # A session that began with SPID or CIE at level 2 counts as strong, as on the pages.
    session = client.session
    session[STRONG_LOGIN_KEY] = True
    session.save()
    assert client.get("/api/v1/me").status_code == 200
