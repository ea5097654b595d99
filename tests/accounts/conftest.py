"""People who log in: a referente (second factor required), a plain member, a staff user."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests import factories

PASSWORD = "prova-password-2025"


@pytest.fixture(autouse=True)
def _fast_hashing_and_no_otp_delay(settings):
    # Argon2 is deliberately slow; django-otp delays retries after a wrong code.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def staff(db):
    return User.objects.create_user(
        username="gestore", password=PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def plain_member(community):
    return factories.make_user_with_role(community, role="MEMBER", username="socia")


def web_login(client, username, password=PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def api_login(username, password=PASSWORD, remote="127.0.0.1", **extra):
    return APIClient(REMOTE_ADDR=remote).post(
        "/api/v1/auth/login", {"username": username, "password": password, **extra}, format="json"
    )


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
