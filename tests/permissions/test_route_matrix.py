"""Every web URL pattern × every persona: allowed, refused (403) or sent to log in.

The rule of each view is the one it declares with the decorators of cer.core.access;
a view that declares none makes this test fail, so no page can ship unprotected.
The semantics of the rules themselves are pinned in test_rules.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cer.access.rules import BACK_OFFICE_GROUP
from cer.members.models import Membership
from tests import factories
from tests.eid.switch import turn_eid_on
from tests.permissions.objects import sample_object

# Patterns not served by the project's own views, or checked elsewhere.
SKIPPED_PREFIXES = ("admin:", "api", "set_language", "javascript-catalog")
# Sample values for URL arguments other than the protected object's.
SAMPLE_ARGUMENTS = {
    "year": 2025,
    "month": 3,
    "day": 30,
    "token": "x" * 32,
    "uidb64": "MQ",
    "notification_id": 1,
    "record_id": 1,
}
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


@dataclass(frozen=True)
class Route:
    name: str
    view: object
    arguments: tuple[str, ...]


def _walk(patterns, namespace: str = "") -> list[Route]:
    routes: list[Route] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            routes += _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}{entry.name}"
            arguments = tuple(entry.pattern.regex.groupindex)
            routes.append(Route(name=name, view=entry.callback, arguments=arguments))
    return routes


def project_routes() -> list[Route]:
    return [
        r for r in _walk(get_resolver().url_patterns) if not r.name.startswith(SKIPPED_PREFIXES)
    ]


def test_every_project_view_declares_its_access_rule():
    undeclared = [r.name for r in project_routes() if getattr(r.view, "access_rule", None) is None]

    assert undeclared == [], f"views without an access rule: {undeclared}"


@pytest.fixture
def personas(community, settings, tmp_path):
    # The CA certificate download answers 404 when no file is configured.
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n")
    settings.MQTT_CA_FILE = str(ca_file)
    # SPID and CIE login are off by default (their pages answer 404): turn them on.
    turn_eid_on(settings, tmp_path / "eid")
    back_office = User.objects.create_user("matrix-backoffice", password="x")
    back_office.groups.add(Group.objects.get(name=BACK_OFFICE_GROUP))
    other = factories.make_community(name="Altra CER")
    return {
        "referente": factories.make_user_with_role(community, role="REFERENTE", username="m-ref"),
        "administrator": factories.make_user_with_role(
            community, role="ADMINISTRATOR", username="m-adm"
        ),
        "member": factories.make_user_with_role(community, role="MEMBER", username="m-mem"),
        "outsider": factories.make_user_with_role(other, role="REFERENTE", username="m-out"),
        # One person: a plain member here, the referente of the other community.
        "two_communities": _member_of_both(community, other),
        "back_office": back_office,
        "superuser": User.objects.create_superuser("m-root", "root@example.org", "x"),
        "anonymous": None,
    }


def _member_of_both(community, other) -> User:
    user = factories.make_user_with_role(other, role="REFERENTE", username="m-both")
    Membership.objects.create(
        member=user.member,
        community=community,
        role="MEMBER",
        valid_from=dt.date(2024, 9, 12),
        iban=factories.IBAN,
    )
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_view_answers_each_persona_as_its_rule_says(client, community, personas, persona):
    user = personas[persona]
    failures = []
    for route in project_routes():
        rule = route.view.access_rule
        kwargs = {name: SAMPLE_ARGUMENTS.get(name) for name in route.arguments}
        target = None
        if rule.kind == "object":
            target = sample_object(rule.model, community)
            kwargs[rule.url_kwarg] = getattr(target, rule.lookup)
        missing = [name for name, value in kwargs.items() if value is None]
        assert not missing, f"{route.name}: add sample values for {missing} to SAMPLE_ARGUMENTS"
        url = reverse(route.name, kwargs=kwargs)

        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        status, response_location = response.status_code, response.get("Location", "")

        if rule.kind == "public":
            expected = "allowed"
        elif user is None:
            expected = "login"
        elif rule.kind == "login" or user.has_perm(rule.permission, target):
            expected = "allowed"
        else:
            expected = "refused"

        if expected == "allowed" and (status in (401, 403, 404) or "/login/" in response_location):
            failures.append(f"{route.name}: expected access, got {status}")
        if expected == "refused" and status != 403:
            failures.append(f"{route.name}: expected 403, got {status}")
        if expected == "login" and not (status == 302 and "/login/" in response_location):
            failures.append(f"{route.name}: expected a redirect to login, got {status}")

    assert failures == []
