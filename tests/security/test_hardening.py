"""Headers, production guards, uploads outside the code, and encryption at rest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from cer.core import crypto
from cer.core.middleware import SecurityHeadersMiddleware
from cer.members.models import Membership
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "0123456789abcdefghijklmnop"
MIDDLEWARE_WITH_HEADERS = [*settings.MIDDLEWARE, "cer.core.middleware.SecurityHeadersMiddleware"]


def run_check(*extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.pop("FIELD_ENCRYPTION_KEYS", None)
    environment.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", *extra],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": GOOD_KEY,
    "DJANGO_ALLOWED_HOSTS": "cer.example.org",
}


def test_the_deploy_check_refuses_production_without_encryption_keys():
    result = run_check("--deploy", **PRODUCTION)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_the_deploy_check_passes_with_keys_and_hsts():
    result = run_check(
        "--deploy",
        "--fail-level",
        "ERROR",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr


def test_production_settings_turn_on_hsts_secure_cookies_and_the_ssl_redirect():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_SSL_REDIRECT, s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY)"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(
        PRODUCTION,
        DJANGO_SETTINGS_MODULE="config.settings",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split() == ["31536000", "True", "True", "True", "DENY", "same-origin"]


def test_uploads_are_stored_outside_the_code():
    media = Path(settings.MEDIA_ROOT).resolve()

    for package in ("cer", "config", "cercalc", "templates", "static"):
        assert not media.is_relative_to(ROOT / package)


@pytest.mark.django_db
@override_settings(MIDDLEWARE=MIDDLEWARE_WITH_HEADERS)
def test_responses_carry_csp_frame_denial_and_referrer_policy(client):
    response = client.get("/api/v1/privacy-notice")

    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_middleware_keeps_a_policy_a_view_set_itself(rf):
    def view(request):
        from django.http import HttpResponse

        response = HttpResponse()
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    response = SecurityHeadersMiddleware(view)(rf.get("/"))

    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_encryption_round_trips_and_hides_the_plaintext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    stored = crypto.encrypt("IT60X0542811101000000123456")

    assert stored.startswith("fernet:") and "IT60" not in stored
    assert crypto.decrypt(stored) == "IT60X0542811101000000123456"


def test_a_value_from_a_dropped_key_cannot_be_read(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    stored = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(stored)


def test_the_blind_index_is_stable_and_keyed():
    assert crypto.blind_index("RSSMRA80A01H501U", purpose="fiscal_code") == crypto.blind_index(
        "RSSMRA80A01H501U", purpose="fiscal_code"
    )
    assert crypto.blind_index("RSSMRA80A01H501U", purpose="fiscal_code") != crypto.blind_index(
        "RSSMRA80A01H501U", purpose="other"
    )


def _raw_iban(membership: Membership) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT iban FROM members_membership WHERE id = %s", [membership.pk])
        return cursor.fetchone()[0]


def _membership() -> Membership:
    return factories.make_membership(factories.make_community())


@pytest.mark.django_db
def test_the_iban_is_encrypted_in_the_database_and_plain_in_python():
    membership = _membership()

    assert _raw_iban(membership).startswith("fernet:")
    assert Membership.objects.get(pk=membership.pk).iban == "IT60X0542811101000000123456"


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_new_key_so_the_old_one_can_go(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    membership = _membership()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = [new]

    assert Membership.objects.get(pk=membership.pk).iban == "IT60X0542811101000000123456"


@pytest.mark.django_db
def test_rotation_stops_without_changes_when_a_key_is_missing(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    membership = _membership()
    before = _raw_iban(membership)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError):
        call_command("rotate_encryption_keys")

    assert _raw_iban(membership) == before
