"""X-Forwarded-For and X-Forwarded-Proto count only when a trusted proxy sends them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest, JsonResponse
from django.test import RequestFactory
from django.urls import path

from cer.core.net import client_ip

CLIENT = "203.0.113.9"
FORGED = "198.51.100.66"
BEHIND_PROXY = "198.51.100.7"
PROXY = "10.0.0.5"


def whoami(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "client_ip": client_ip(request),
            "remote_addr": request.META.get("REMOTE_ADDR"),
            "forwarded_for": request.META.get("HTTP_X_FORWARDED_FOR"),
            "secure": request.is_secure(),
        }
    )


# This module is also the URL configuration of the tests marked `urls(__name__)`.
urlpatterns = [path("whoami", whoami)]


@pytest.fixture(autouse=True)
def _one_trusted_network(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "::1"]


def ask(client, remote: str, **headers: str) -> dict:
    return client.get("/whoami", REMOTE_ADDR=remote, headers=headers).json()


@pytest.mark.urls(__name__)
def test_a_client_cannot_claim_another_address(client):
    seen = ask(client, CLIENT, x_forwarded_for=FORGED)

    assert seen["client_ip"] == CLIENT
    assert seen["remote_addr"] == CLIENT
    assert seen["forwarded_for"] is None


@pytest.mark.urls(__name__)
def test_a_client_cannot_claim_https(client):
    assert ask(client, CLIENT, x_forwarded_proto="https")["secure"] is False


@pytest.mark.urls(__name__)
def test_a_trusted_proxy_gives_the_client_address_and_scheme(client):
    seen = ask(client, PROXY, x_forwarded_for=BEHIND_PROXY, x_forwarded_proto="https")

    assert seen["client_ip"] == BEHIND_PROXY
    assert seen["remote_addr"] == BEHIND_PROXY
    assert seen["secure"] is True


@pytest.mark.urls(__name__)
def test_addresses_a_client_put_before_the_proxy_are_ignored(client):
    seen = ask(client, PROXY, x_forwarded_for=f"{FORGED}, {BEHIND_PROXY}, 10.0.0.9")

    assert seen["client_ip"] == BEHIND_PROXY


@pytest.mark.urls(__name__)
def test_a_malformed_entry_stops_at_the_last_trusted_hop(client):
    seen = ask(client, PROXY, x_forwarded_for="not-an-address, 10.0.0.9")

    assert seen["client_ip"] == "10.0.0.9"


@pytest.mark.urls(__name__)
def test_an_ipv6_proxy_can_be_trusted(client):
    assert ask(client, "::1", x_forwarded_for=BEHIND_PROXY)["client_ip"] == BEHIND_PROXY


@pytest.mark.urls(__name__)
def test_a_proxy_is_trusted_only_when_listed(client, settings):
    settings.TRUSTED_PROXIES = []

    seen = ask(client, PROXY, x_forwarded_for=BEHIND_PROXY, x_forwarded_proto="https")

    assert seen["client_ip"] == PROXY
    assert seen["secure"] is False


@pytest.mark.urls(__name__)
def test_the_scheme_is_what_the_nearest_proxy_says(client):
    assert ask(client, PROXY, x_forwarded_proto="https, http")["secure"] is False


def test_https_claimed_by_a_client_still_gets_the_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(
        "/privacy/notice/", REMOTE_ADDR=CLIENT, headers={"x_forwarded_proto": "https"}
    )

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/privacy/notice/"


@pytest.mark.django_db
def test_https_reported_by_the_proxy_is_served(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(
        "/privacy/notice/", REMOTE_ADDR=PROXY, headers={"x_forwarded_proto": "https"}
    )

    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("remote", "recorded"), [(CLIENT, CLIENT), (PROXY, BEHIND_PROXY)], ids=["client", "proxy"]
)
def test_a_refused_login_is_charged_to_the_real_client(client, remote, recorded):
    from cer.accounts.models import LoginFailure

    User.objects.create_user(username="anna", password="una-password-lunga-2025")

    client.post(
        "/api/v1/auth/login",
        {"username": "anna", "password": "sbagliata"},
        content_type="application/json",
        REMOTE_ADDR=remote,
        headers={"x_forwarded_for": FORGED if remote == CLIENT else BEHIND_PROXY},
    )

    assert list(LoginFailure.objects.values_list("ip_address", flat=True)) == [recorded]


def test_client_ip_resolves_a_request_that_skipped_the_middleware():
    request = RequestFactory().get(
        "/", REMOTE_ADDR=PROXY, headers={"x_forwarded_for": BEHIND_PROXY}
    )

    assert client_ip(request) == BEHIND_PROXY


def test_a_malformed_trusted_proxy_setting_stops_the_start():
    environment = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DJANGO_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example.org",
    }

    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "DJANGO_TRUSTED_PROXIES: 'proxy.example.org'" in result.stderr
