"""Personal access tokens: created once by session or JWT, limited by scopes, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cer.accounts import tokens
from cer.accounts.models import PersonalAccessToken, TokenScope
from cer.api.permissions import TOKENS_REFUSED, required_scope
from cer.api.schema import ApiSchemaGenerator
from cer.audit.models import AuditEntry
from cer.metering.models import HourlyReading
from tests.api.conftest import assert_error, client_for
from tests.api.routes import SAMPLE_ARGUMENTS, WORLD_KEYS, own_api_routes

pytestmark = pytest.mark.django_db

READING = {"hour_start": "2025-03-30T03:00:00+02:00", "injected_kwh": "1.5", "withdrawn_kwh": "0"}


def token_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def make_token(user, scopes, **overrides):
    return tokens.create_token(
        owner=user,
        name=overrides.pop("name", "script"),
        scopes=scopes,
        now=overrides.pop("now", timezone.now()),
        expires_at=overrides.pop("expires_at", None),
    )


def readings_url(world) -> str:
    return f"/api/v1/connection-points/{world.objects['connection_point'].pk}/readings"


# --- creating ---------------------------------------------------------------------------


def test_a_token_created_through_the_api_shows_its_secret_once_and_stores_only_its_hash(
    personas,
):
    user = personas["referente"]
    jwt = client_for(user)

    created = jwt.post(
        "/api/v1/me/tokens", {"name": "contabile", "scopes": ["read"]}, format="json"
    )
    listed = jwt.get("/api/v1/me/tokens")

    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert secret.startswith("cer_pat_") and len(secret) == len("cer_pat_") + 43
    token = PersonalAccessToken.objects.get(owner=user)
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:16]
    assert token.scopes == ["read"]
    assert secret not in json.dumps(listed.json())
    assert [row["prefix"] for row in listed.json()["results"]] == [secret[:16]]
    assert "secret" not in listed.json()["results"][0]


def test_a_token_expires_after_90_days_unless_told_and_never_after_a_year(personas):
    jwt = client_for(personas["referente"])
    too_late = (timezone.now() + dt.timedelta(days=366)).isoformat()

    default = jwt.post("/api/v1/me/tokens", {"name": "a", "scopes": ["read"]}, format="json")
    refused = jwt.post(
        "/api/v1/me/tokens",
        {"name": "b", "scopes": ["read"], "expires_at": too_late},
        format="json",
    )

    assert default.status_code == 201
    lifetime = PersonalAccessToken.objects.get(name="a")
    assert lifetime.expires_at - lifetime.created_at == dt.timedelta(days=90)
    assert "expires_at" in assert_error(refused, 400, "invalid")["fields"]


def test_an_unknown_scope_is_refused(personas):
    response = client_for(personas["referente"]).post(
        "/api/v1/me/tokens", {"name": "a", "scopes": ["admin"]}, format="json"
    )

    assert "scopes[0]" in assert_error(response, 400, "invalid")["fields"]


def test_creating_and_revoking_are_in_the_audit_log(personas):
    user = personas["referente"]
    jwt = client_for(user)
    created = jwt.post("/api/v1/me/tokens", {"name": "a", "scopes": ["read"]}, format="json")

    revoked = jwt.delete(f"/api/v1/me/tokens/{created.json()['id']}")

    assert revoked.status_code == 204
    codes = list(
        AuditEntry.objects.filter(actor=user, code__startswith="api.personal_token.")
        .order_by("pk")
        .values_list("code", flat=True)
    )
    assert codes == ["api.personal_token.created", "api.personal_token.revoked"]
    assert PersonalAccessToken.objects.get().revoked_at is not None


# --- authenticating ---------------------------------------------------------------------


def test_a_token_authenticates_as_its_owner_and_notes_its_use(personas):
    user = personas["referente"]
    created = make_token(user, ["read"])

    response = token_client(created.secret).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == user.username
    assert PersonalAccessToken.objects.get().last_used_at is not None


def test_last_use_is_written_at_most_once_a_minute(personas):
    created = make_token(personas["referente"], ["read"])
    client = token_client(created.secret)
    client.get("/api/v1/me")
    first = PersonalAccessToken.objects.get().last_used_at

    client.get("/api/v1/me")
    unchanged = PersonalAccessToken.objects.get().last_used_at
    PersonalAccessToken.objects.update(last_used_at=first - dt.timedelta(minutes=2))
    client.get("/api/v1/me")
    later = PersonalAccessToken.objects.get().last_used_at

    assert unchanged == first
    assert later > first


@pytest.mark.parametrize("state", ["expired", "revoked", "inactive owner", "wrong secret"])
def test_an_unusable_token_is_refused_with_401(personas, state):
    user = personas["referente"]
    created = make_token(user, ["read"])
    secret = created.secret
    if state == "expired":
        PersonalAccessToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif state == "revoked":
        tokens.revoke_token(token=created.token, actor=user, now=timezone.now())
    elif state == "inactive owner":
        user.is_active = False
        user.save(update_fields=["is_active"])
    else:
        secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    response = token_client(secret).get("/api/v1/me")

    assert_error(response, 401, "token_not_valid")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_jwt_bearer_tokens_still_work_next_to_personal_tokens(personas):
    response = client_for(personas["member"]).get("/api/v1/me")

    assert response.status_code == 200


# --- scopes -----------------------------------------------------------------------------


def test_a_read_only_token_cannot_post_readings_and_the_error_names_the_scope(personas, world):
    created = make_token(personas["referente"], ["read"])

    response = token_client(created.secret).post(
        readings_url(world), {"source": "DSO", "readings": [READING]}, format="json"
    )

    error = assert_error(response, 403, "missing_scope")
    assert "readings:write" in error["message"]
    assert not HourlyReading.objects.filter(source="DSO").exists()


def test_a_readings_write_token_posts_readings(personas, world):
    created = make_token(personas["referente"], ["readings:write"])

    response = token_client(created.secret).post(
        readings_url(world), {"source": "DSO", "readings": [READING]}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {"written": 1}
    assert HourlyReading.objects.get(source="DSO").injected_wh == 1500


def test_a_readings_write_token_cannot_read(personas, world):
    created = make_token(personas["referente"], ["readings:write"])

    response = token_client(created.secret).get("/api/v1/plants")

    assert "read" in assert_error(response, 403, "missing_scope")["message"]


def test_a_token_posts_readings_to_the_device_ingestion_path_only_with_the_scope(personas, world):
    plant = world.objects["plant"]
    body = {
        "readings": [
            {"start": "2025-03-29T23:00:00Z", "end": "2025-03-30T00:00:00Z", "injected_wh": 700}
        ]
    }
    writer = make_token(personas["referente"], ["readings:write"], name="writer")
    reader = make_token(personas["referente"], ["read"], name="reader")

    refused = token_client(reader.secret).post(
        f"/api/plants/{plant.pk}/readings", body, format="json"
    )
    accepted = token_client(writer.secret).post(
        f"/api/plants/{plant.pk}/readings", body, format="json"
    )

    assert refused.status_code == 403
    assert "readings:write" in refused.json()["error"]["message"]
    assert accepted.status_code == 201, accepted.json()
    assert accepted.json()["accepted"] == 1


def test_a_holders_token_with_readings_write_still_needs_the_managers_permission(world):
    # The holder sees the point's readings but may not write them.
    created = make_token(world.objects["holder_user"], ["readings:write", "read"])

    response = token_client(created.secret).post(
        readings_url(world), {"readings": [READING]}, format="json"
    )

    assert_error(response, 403)


def test_a_token_of_community_a_sees_nothing_of_community_b(personas, world, other_world):
    created = make_token(personas["referente"], list(TokenScope.values))
    client = token_client(created.secret)
    theirs = other_world.objects

    plant = client.get(f"/api/v1/plants/{theirs['plant'].pk}")
    community = client.get(f"/api/v1/communities/{other_world.community.pk}")
    readings = client.post(
        f"/api/v1/connection-points/{theirs['connection_point'].pk}/readings",
        {"readings": [READING]},
        format="json",
    )
    listed = client.get("/api/v1/plants")

    assert_error(plant, 404)
    assert_error(community, 404)
    assert_error(readings, 404)
    assert theirs["plant"].pk not in [row["id"] for row in listed.json()["results"]]
    assert world.objects["plant"].pk in [row["id"] for row in listed.json()["results"]]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/me/tokens", None),
        ("post", "/api/v1/me/tokens", {"name": "more", "scopes": ["read"]}),
        ("delete", "/api/v1/me/tokens/{own}", None),
        ("post", "/api/v1/me/password", {"current_password": "x", "new_password": "y"}),
        ("post", "/api/v1/me/second-factor", {}),
    ],
)
def test_a_token_with_every_scope_cannot_manage_the_account(personas, method, path, body):
    created = make_token(personas["referente"], list(TokenScope.values))
    url = path.format(own=created.token.pk)

    response = getattr(token_client(created.secret), method)(url, body, format="json")

    assert_error(response, 403, "token_not_allowed")
    assert PersonalAccessToken.objects.count() == 1
    assert PersonalAccessToken.objects.get().revoked_at is None


def test_revoking_someone_elses_token_is_a_404(personas):
    theirs = make_token(personas["member"], ["read"])

    response = client_for(personas["referente"]).delete(f"/api/v1/me/tokens/{theirs.token.pk}")

    assert_error(response, 404)
    assert PersonalAccessToken.objects.get().revoked_at is None


def _route_urls(world):
    for route in own_api_routes():
        rule = route.rule
        if rule.kind == "public":
            continue
        kwargs = {name: SAMPLE_ARGUMENTS.get(name) for name in route.arguments}
        if rule.kind == "object":
            if rule.model not in WORLD_KEYS:
                continue  # test_route_matrix.py fails for it already
            kwargs["pk"] = world.objects[WORLD_KEYS[rule.model]].pk
        yield route, reverse(route.name, kwargs=kwargs)


def test_a_read_only_token_is_refused_every_write_on_every_api_route(personas, world):
    # A superuser passes every object rule, so only the token's scope can refuse.
    created = make_token(personas["superuser"], ["read"])
    client = token_client(created.secret)
    accepted = []

    for route, url in _route_urls(world):
        for method in route.methods:
            if method == "get":
                continue
            response = getattr(client, method)(url, {}, format="json")
            if response.status_code != 403:
                accepted.append(f"{method.upper()} {url}: {response.status_code}")

    assert accepted == []


def test_a_read_only_token_reads_every_route_that_takes_tokens(personas, world):
    created = make_token(personas["superuser"], ["read"])
    client = token_client(created.secret)
    refused = []

    for route, url in _route_urls(world):
        if "get" not in route.methods:
            continue
        expected = 403 if getattr(route.handler, "token_scope", None) == TOKENS_REFUSED else None
        status = client.get(url).status_code
        if expected == 403 and status != 403:
            refused.append(f"GET {url}: expected 403, got {status}")
        if expected is None and status in (401, 403):
            refused.append(f"GET {url}: refused with {status}")

    assert refused == []


def test_a_view_that_names_no_scope_refuses_token_writes():
    class Undeclared:
        pass

    assert required_scope(Undeclared, "POST") is None
    assert required_scope(Undeclared, "GET") == "read"


def test_the_schema_offers_personal_tokens_except_where_they_are_refused():
    schema = ApiSchemaGenerator().get_schema(request=None, public=True)

    def schemes(path, method):
        return {name for entry in schema["paths"][path][method]["security"] for name in entry}

    assert schema["components"]["securitySchemes"]["personalTokenAuth"]["scheme"] == "bearer"
    assert "personalTokenAuth" in schemes("/api/v1/connection-points/{id}/readings", "post")
    assert "personalTokenAuth" not in schemes("/api/v1/me/tokens", "post")
    assert "personalTokenAuth" not in schemes("/api/v1/me/tokens/{id}", "delete")


# --- the web page -----------------------------------------------------------------------


def test_the_page_creates_a_token_and_shows_the_secret_only_once(personas):
    user = personas["member"]
    browser = Client()
    browser.force_login(user)
    url = reverse("tokens:list")

    created = browser.post(
        url,
        {"action": "create", "name": "foglio", "scopes": ["read"], "lifetime_days": "30"},
    )
    again = browser.get(url)

    token = PersonalAccessToken.objects.get(owner=user)
    page = created.content.decode()
    secret = page.split('id="new-token-secret" type="text" readonly value="')[1].split('"')[0]
    assert created.status_code == 200
    assert hashlib.sha256(secret.encode()).hexdigest() == token.secret_hash
    assert created["Cache-Control"] == "no-store"
    assert secret not in again.content.decode()
    assert token.prefix in again.content.decode()
    assert token.expires_at - token.created_at == dt.timedelta(days=30)


def test_the_page_revokes_only_the_users_own_tokens(personas):
    mine = make_token(personas["member"], ["read"], name="mine")
    theirs = make_token(personas["referente"], ["read"], name="theirs")
    browser = Client()
    browser.force_login(personas["member"])

    browser.post(reverse("tokens:list"), {"action": "revoke", "token": str(theirs.token.pk)})
    browser.post(reverse("tokens:list"), {"action": "revoke", "token": str(mine.token.pk)})

    assert PersonalAccessToken.objects.get(pk=theirs.token.pk).revoked_at is None
    assert PersonalAccessToken.objects.get(pk=mine.token.pk).revoked_at is not None
    assert AuditEntry.objects.filter(code="api.personal_token.revoked").count() == 1


def test_the_page_needs_csrf(personas):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas["member"])

    response = browser.post(
        reverse("tokens:list"), {"action": "create", "name": "x", "scopes": ["read"]}
    )

    assert response.status_code == 403
    assert not PersonalAccessToken.objects.exists()


def test_the_menu_links_to_the_page(personas):
    browser = Client()
    browser.force_login(personas["member"])

    page = browser.get(reverse("privacy:consents")).content.decode()

    assert f'href="{reverse("tokens:list")}"' in page
