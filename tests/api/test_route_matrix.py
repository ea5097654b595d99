"""Every route under /api/ × every method × every persona answers as its declared rule says.

A view without a declared `access_rule` fails the first test, so no endpoint can ship
unprotected; the rule semantics are in cer/api/permissions.py.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cer.accounts.models import TokenScope
from cer.api.permissions import TOKENS_REFUSED, required_scope
from cer.metering import broker
from cer.privacy import services as privacy
from tests.api.conftest import client_for
from tests.api.routes import (
    SAMPLE_ARGUMENTS,
    SELF_AUTHENTICATING,
    WORLD_KEYS,
    api_routes,
    own_api_routes,
)

PERSONAS = (
    "referente",
    "administrator",
    "member",
    "outsider",
    "two_communities",
    "back_office",
    "superuser",
    "anonymous",
)
SAFE = {"get"}


def test_the_api_has_routes_to_check():
    assert len(api_routes()) > 40


def test_every_api_view_declares_its_access_rule():
    undeclared = [route.name for route in api_routes() if route.rule is None]

    assert undeclared == [], f"API views without an access rule: {undeclared}"


def test_every_api_route_resolves_the_scope_a_personal_token_needs():
    # Reads need `read`; each write must name its scope or refuse tokens outright, so
    # that a new view cannot take writes from a read-only token by default.
    unresolved = []
    for route in api_routes():
        if route.rule is not None and route.rule.kind == "public":
            continue
        declared = getattr(route.handler, "token_scope", None)
        methods = ["post"] if route.name in SELF_AUTHENTICATING else route.methods
        for method in methods:
            if method in SAFE:
                resolved = declared in (None, TOKENS_REFUSED, *TokenScope.values)
            else:
                resolved = declared == TOKENS_REFUSED or required_scope(route.handler, method)
            if not resolved:
                unresolved.append(f"{method.upper()} {route.name}")

    assert unresolved == [], f"API operations without a token scope: {unresolved}"


def test_the_self_authenticating_routes_are_still_routed():
    assert {route.name for route in api_routes()} >= SELF_AUTHENTICATING


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["referente", "superuser", "anonymous"])
def test_device_ingestion_routes_refuse_bearer_tokens_and_anonymous_calls(persona, personas, world):
    client = client_for(personas[persona])
    plant = world.objects["plant"]
    point = world.objects["connection_point"]

    by_plant = client.post(f"/api/plants/{plant.pk}/readings", {}, format="json")
    by_point = client.post(f"/api/points/{point.pod}/readings", {}, format="json")

    assert by_plant.status_code == by_point.status_code == 401


def test_every_object_rule_names_a_model_the_matrix_can_build():
    unknown = [
        route.name
        for route in own_api_routes()
        if route.rule.kind == "object" and route.rule.model not in WORLD_KEYS
    ]

    assert unknown == []


def _expected(rule, user, method, target) -> str:
    if rule.kind == "public":
        return "allowed"
    if user is None:
        return "unauthenticated"
    if rule.kind == "login":
        return "allowed"
    if not user.has_perm(rule.view_permission, target):
        return "hidden"
    if method in SAFE:
        allowed = not rule.read_permission or user.has_perm(rule.read_permission, target)
    else:
        allowed = bool(rule.change_permission) and user.has_perm(rule.change_permission, target)
    return "allowed" if allowed else "refused"


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(self):
        raise broker.BrokerError("no broker in the tests")

    monkeypatch.setattr(broker.DynsecSession, "__enter__", refuse)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_route_answers_each_persona_as_its_rule_says(
    persona, personas, world, other_world, broker_down
):
    user = personas[persona]
    if user is not None:
        now = timezone.now()
        notice = privacy.current_notice(now=now)
        privacy.give_consents(user=user, notice=notice, purposes=["NEWSLETTER"], now=now)
    failures = []
    for route in own_api_routes():
        rule = route.rule
        kwargs = {name: SAMPLE_ARGUMENTS.get(name) for name in route.arguments}
        target = None
        if rule.kind == "object":
            target = world.objects[WORLD_KEYS[rule.model]]
            kwargs["pk"] = target.pk
        url = reverse(route.name, kwargs=kwargs)
        for method in route.methods:
            client = client_for(user)
            response = getattr(client, method)(url, {}, format="json")
            status = response.status_code
            expected = _expected(rule, user, method, target)
            if status >= 500 and status not in (501, 503):
                failures.append(f"{method.upper()} {url}: server error {status}")
            elif expected == "allowed" and status in (401, 403, 404):
                failures.append(f"{method.upper()} {url}: expected access, got {status}")
            elif expected == "unauthenticated" and status != 401:
                failures.append(f"{method.upper()} {url}: expected 401, got {status}")
            elif expected == "hidden" and status != 404:
                failures.append(f"{method.upper()} {url}: expected 404, got {status}")
            elif expected == "refused" and status != 403:
                failures.append(f"{method.upper()} {url}: expected 403, got {status}")

    assert failures == []
