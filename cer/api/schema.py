"""The OpenAPI document: its security schemes, and the error shape on every operation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings

from cer.accounts.models import TokenScope
from cer.api import device_schema as metering_schema
from cer.api.permissions import required_scope
from cer.billing.models import StatementStatus
from cer.settlement.models import RunStatus

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable code: invalid, parse_error, not_authenticated, "
                    "authentication_failed, invalid_credentials, otp_required, "
                    "token_not_valid, permission_denied, missing_scope, token_not_allowed, "
                    "not_found, method_not_allowed, "
                    "unsupported_media_type, not_acceptable, conflict, body_too_large, "
                    "throttled, locked_out, service_unavailable.",
                },
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Field path -> problems, for `invalid` only.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}
ERROR_STATUSES = {
    "400": "Invalid request: malformed JSON, unknown or wrong fields, bad query parameters.",
    "401": "Not authenticated, or the token is not valid.",
    "403": "Authenticated but not allowed (on an object you can see), or the token lacks a scope.",
    "404": "No such object among those you may see.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Conflict with the current state.",
    "413": "Body too large.",
    "415": "Unsupported media type: send application/json.",
    "429": "Too many requests or locked out: see Retry-After.",
    "503": "A dependency (the MQTT broker) is unavailable.",
}


class ApiJWTScheme(OpenApiAuthenticationExtension):
    target_class = "cer.api.authentication.ApiJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class SessionCookieScheme(OpenApiAuthenticationExtension):
    """The web app's session cookie, for Django's session class and the project's own.

    drf-spectacular documents SessionAuthentication itself only, not its subclasses.
    """

    target_class = "rest_framework.authentication.SessionAuthentication"
    match_subclasses = True
    name = "cookieAuth"
    priority = -2  # below a scheme written for one subclass, if any

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The web session; unsafe methods also need the X-CSRFToken header.",
        }


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cer.api.authentication.PersonalTokenAuthentication"
    name = "personalTokenAuth"

    def get_security_requirement(self, auto_schema: Any) -> Any:
        # Operations that refuse tokens (account management) do not list the scheme:
        # drf-spectacular skips a scheme whose requirement is None.
        if required_scope(auto_schema.view, auto_schema.method) is None:
            return None
        return {self.name: []}

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "cer_pat_…",
            "description": (
                "A personal access token (`cer_pat_…`), limited to its scopes: `read` for "
                "every GET; for writes "
                + ", ".join(f"`{scope}`" for scope in TokenScope.values if scope != "read")
                + ". Account operations (tokens, password, second factor, consents) refuse it."
            ),
        }


def add_error_responses(result: dict[str, Any]) -> dict[str, Any]:
    """Add the Error component and document every error status on every operation.

    Request bodies refuse unknown fields (`additionalProperties: false`), and optional
    email fields may be blank, which the `email` format would deny.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
        for prop in component.get("properties", {}).values():
            if prop.get("format") == "email":
                del prop["format"]
    schemas["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_STATUSES.items():
                responses.setdefault(code, {"description": description, "content": reference})
            responses.pop("default", None)
    return result


SCHEMA_SETTINGS = {
    # The readings endpoints' bodies and the devices' HTTP Basic scheme: those views
    # authenticate each call themselves, so no authentication class describes them.
    "APPEND_COMPONENTS": metering_schema.COMPONENTS,
    # Several models name their choices `kind`, `status` or `category`: give each set its
    # own name.
    "ENUM_NAME_OVERRIDES": {
        "CommunityKindEnum": "cer.communities.models.CommunityKind",
        "ConfigurationStatusEnum": "cer.communities.models.ConfigurationStatus",
        "PersonKindEnum": "cer.members.models.PersonKind",
        "MembershipKindEnum": "cer.members.models.MembershipKind",
        "DeviceKindEnum": "cer.metering.models.DeviceKind",
        "DeviceStatusEnum": "cer.metering.models.DeviceStatus",
        "TokenScopeEnum": "cer.accounts.models.TokenScope",
        "DocumentKindEnum": "cer.documents.models.DocumentKind",
        "MemberCategoryEnum": "cer.members.models.MemberCategory",
        "CostCategoryEnum": "cer.grants.models.CostCategory",
        "GrantPhaseKindEnum": "cer.grants.models.PhaseKind",
        "PaymentRequestKindEnum": "cer.collections.models.RequestKind",
        # Read-only code fields (cer/api/serializers/settlement.py) describe their enum
        # inline, so the override is matched by the plain list of codes.
        "RunStatusEnum": lambda: list(RunStatus.values),
        "StatementStatusEnum": lambda: list(StatementStatus.values),
    },
}


class ApiSchemaGenerator(SchemaGenerator):
    """The project's generator: its enum names and the error responses."""

    def get_schema(self, request: Any = None, public: bool = False) -> dict[str, Any]:
        with patched_settings(SCHEMA_SETTINGS):
            schema = super().get_schema(request=request, public=public)
        return add_error_responses(schema)
