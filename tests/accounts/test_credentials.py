"""A logout, a replayed refresh token and a password change end what they should."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from cer.accounts import tokens
from cer.accounts.models import TokenFamily
from tests.accounts.conftest import PASSWORD, api_login, bearer, web_login
from tests.accounts.helpers import authenticator, code

pytestmark = pytest.mark.django_db


def refresh(token: str):
    return Client().post(
        "/api/v1/auth/refresh", {"refresh": token}, content_type="application/json"
    )


def test_a_refresh_token_works_once_and_a_replay_ends_the_whole_login(plain_member):
    pair = api_login("socia").json()

    first = refresh(pair["refresh"])
    replay = refresh(pair["refresh"])

    assert first.status_code == 200 and replay.status_code == 401
    # The pair the first refresh gave belongs to the same login: it ends too.
    assert refresh(first.json()["refresh"]).status_code == 401
    assert bearer(first.json()["access"]).get("/api/v1/me").status_code == 401
    assert TokenFamily.objects.get().revoked_because == "reused"


def test_logout_ends_the_access_token_issued_at_login_even_after_a_refresh(plain_member):
    pair = api_login("socia").json()
    newer = refresh(pair["refresh"]).json()

    logout = bearer(newer["access"]).post(
        "/api/v1/auth/logout", {"refresh": newer["refresh"]}, format="json"
    )

    assert logout.status_code == 204
    assert bearer(pair["access"]).get("/api/v1/me").status_code == 401
    assert bearer(newer["access"]).get("/api/v1/me").status_code == 401


def test_the_api_login_of_a_referente_needs_the_code(referente):
    device = authenticator(referente)

    without = api_login("referente")
    with_code = api_login("referente", otp=code(device))

    assert without.status_code == 401 and without.json()["error"]["code"] == "otp_required"
    assert with_code.status_code == 200


def test_a_referente_without_a_second_factor_gets_no_api_token(referente):
    response = api_login("referente")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "second_factor_enrolment_required"


def test_a_web_password_change_ends_sessions_refresh_and_personal_tokens(plain_member):
    now = __import__("django.utils.timezone", fromlist=["now"]).now()
    personal = tokens.create_token(
        owner=plain_member, name="foglio", scopes=["read"], now=now, expires_at=None
    )
    pair = api_login("socia").json()
    other_session = Client()
    web_login(other_session, "socia")
    client = Client()
    web_login(client, "socia")

    response = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "una-nuova-password-2026",
            "new_password2": "una-nuova-password-2026",
        },
    )

    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 200  # this session goes on
    assert other_session.get("/api/v1/me").status_code in (401, 403)
    assert refresh(pair["refresh"]).status_code == 401
    assert bearer(pair["access"]).get("/api/v1/me").status_code == 401
    assert bearer(personal.secret).get("/api/v1/me").status_code == 401


def test_a_password_set_anywhere_ends_the_personal_tokens(plain_member):
    now = __import__("django.utils.timezone", fromlist=["now"]).now()
    personal = tokens.create_token(
        owner=plain_member, name="foglio", scopes=["read"], now=now, expires_at=None
    )
    assert bearer(personal.secret).get("/api/v1/me").status_code == 200

    # What the admin site's password form and a reset link both do.
    plain_member.set_password("impostata-dall-amministratore-2026")
    plain_member.save()

    assert bearer(personal.secret).get("/api/v1/me").status_code == 401


def test_throttling_counters_live_in_the_shared_store(plain_member, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "login", "2/min")
    for _attempt in range(2):
        api_login("nessuno", "sbagliata", remote="192.0.2.50")

    throttled = api_login("nessuno", "sbagliata", remote="192.0.2.50")

    assert throttled.status_code == 429
    assert settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    # Another process would open its own cache object on the same table and see it.
    from django.core.cache.backends.db import DatabaseCache

    other_process_view = DatabaseCache("cer_cache", {})
    assert other_process_view.get("throttle_login_192.0.2.50") is not None
    assert caches["default"].get("throttle_login_192.0.2.50") is not None


def test_a_forgotten_password_is_reset_by_e_mail_and_ends_every_credential(
    plain_member, mailoutbox
):
    plain_member.email = "socia@example.org"
    plain_member.save()
    now = __import__("django.utils.timezone", fromlist=["now"]).now()
    personal = tokens.create_token(
        owner=plain_member, name="foglio", scopes=["read"], now=now, expires_at=None
    )
    old_session = Client()
    web_login(old_session, "socia")

    unknown = Client().post("/password-reset/", {"email": "nessuno@example.org"})
    known = Client().post("/password-reset/", {"email": "socia@example.org"})

    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"]
    assert len(mailoutbox) == 1
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password-reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = Client().get("/" + path, follow=True)
    set_password_url = form_page.redirect_chain[-1][0]
    client = Client()
    client.get("/" + path)
    done = client.post(
        set_password_url,
        {"new_password1": "ritrovata-password-2026", "new_password2": "ritrovata-password-2026"},
    )

    assert done.status_code == 302
    assert old_session.get("/api/v1/me").status_code in (401, 403)
    assert bearer(personal.secret).get("/api/v1/me").status_code == 401
    assert web_login(Client(), "socia", "ritrovata-password-2026").status_code == 302
    from cer.audit.models import AuditEntry

    assert AuditEntry.objects.filter(code="accounts.password.reset").count() == 1


def test_reset_requests_are_limited_per_address(plain_member):
    for _attempt in range(5):
        Client(REMOTE_ADDR="192.0.2.77").post("/password-reset/", {"email": "x@example.org"})

    response = Client(REMOTE_ADDR="192.0.2.77").post("/password-reset/", {"email": "x@example.org"})

    assert response.status_code == 429 and int(response["Retry-After"]) > 0
