"""One error shape for every API response that is not a success.

    {"error": {"code": "invalid", "message": "...", "fields": {"hour_start": ["..."]}}}

`code` is stable and machine-readable, `message` is for people, `fields` is present
for validation errors only and maps a field path (`readings[3].hour_start`) to its
problems. The handler also covers Django's 404 and oversized bodies, so no error
leaves the API in another shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "body_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("A service the operation depends on is unavailable; retry later.")
    default_code = "service_unavailable"


class LockedOut(exceptions.Throttled):
    """Too many failed logins for this username from this address."""

    default_detail = _("Too many failed logins; try again later.")
    default_code = "locked_out"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    """Return the documented error document."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into `{"a.b[2].c": ["problem"]}`."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            fields.update(flatten_fields(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, (Mapping, list)) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    fields.update(flatten_fields(item, f"{prefix}[{index}]"))
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def _code_of(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    if isinstance(codes, Mapping) and isinstance(codes.get("code"), str):
        return codes["code"]
    return exc.default_code


def _message_of(exc: exceptions.APIException, fields: dict[str, list[str]]) -> str:
    if isinstance(exc, exceptions.ValidationError):
        if len(fields) == 1:
            (name, problems), *_rest = fields.items()
            return f"{name}: {problems[0]}" if name != "non_field_errors" else problems[0]
        return str(_("The request is not valid; see the fields."))
    detail = exc.detail
    if isinstance(detail, Mapping):
        detail = detail.get("detail", exc.default_detail)
    if isinstance(detail, list) and detail:
        detail = detail[0]
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every exception raised in an API view in the one error shape."""
    if isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    fields = (
        flatten_fields(exc.detail)
        if isinstance(exc, exceptions.ValidationError)
        else getattr(exc, "fields", {})
    )
    response.data = error_body(_code_of(exc), _message_of(exc, fields), fields)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    return response


@csrf_exempt
def json_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Answer any unknown path under /api/ with a JSON 404 instead of an HTML page."""
    return JsonResponse(
        error_body("not_found", str(exceptions.NotFound.default_detail)),
        status=status.HTTP_404_NOT_FOUND,
    )
