"""The routes under /api/ as the URL configuration declares them, with their rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from cer.accounts.models import PersonalAccessToken
from cer.audit.models import AuditEntry
from cer.billing.models import Invoice, Statement
from cer.communities.models import Community, Configuration
from cer.documents.models import Document
from cer.members.models import Member, Membership
from cer.metering.models import Device
from cer.plants.models import ConnectionPoint, Plant
from cer.settlement.models import SettlementJob, SettlementRun

METHODS = ("get", "post", "put", "patch", "delete")
# The world fixture's key for each model an object rule can name.
WORLD_KEYS = {
    Community: "community",
    Configuration: "configuration",
    Member: "member",
    Membership: "membership",
    ConnectionPoint: "connection_point",
    Plant: "plant",
    Device: "device",
    AuditEntry: "audit_entry",
    Document: "document",
    PersonalAccessToken: "personal_token",
    Invoice: "invoice",
    SettlementRun: "settlement_run",
    SettlementJob: "settlement_job",
    Statement: "statement",
}
SAMPLE_ARGUMENTS = {"purpose": "NEWSLETTER"}
# Views of the metering app that authenticate each call themselves: a device with HTTP
# Basic, a manager's session with CSRF, or a manager's personal access token with the
# readings:write scope; a JWT is not enough (401). config/urls.py mounts them under /api/,
# outside the `api` namespace.
SELF_AUTHENTICATING = {"api_plant_readings", "api_point_readings"}


@dataclass(frozen=True)
class ApiRoute:
    name: str
    view: Any
    arguments: tuple[str, ...]

    @property
    def handler(self) -> Any:
        return getattr(self.view, "cls", self.view)

    @property
    def rule(self) -> Any:
        return getattr(self.handler, "access_rule", None)

    @property
    def methods(self) -> list[str]:
        handler = self.handler
        if handler is self.view:  # a plain Django view answers GET
            return ["get"]
        return [method for method in METHODS if hasattr(handler, method)]


def _walk(patterns: list[Any], namespace: str = "") -> list[ApiRoute]:
    routes: list[ApiRoute] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            routes += _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            routes.append(
                ApiRoute(
                    name=f"{namespace}{entry.name}",
                    view=entry.callback,
                    arguments=tuple(entry.pattern.regex.groupindex),
                )
            )
    return routes


def api_routes() -> list[ApiRoute]:
    """Every named route in the `api` namespace except the JSON 404 catch-all, and the
    self-authenticating metering routes under /api/."""
    return [
        route
        for route in _walk(get_resolver().url_patterns)
        if (route.name.startswith("api:") and route.name != "api:not-found")
        or route.name in SELF_AUTHENTICATING
    ]


def own_api_routes() -> list[ApiRoute]:
    """The routes whose views follow cer.api's access rules."""
    return [route for route in api_routes() if route.name not in SELF_AUTHENTICATING]
