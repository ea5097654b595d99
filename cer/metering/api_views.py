"""HTTP ingestion: the platform's JSON readings posted by a device or by a community manager.

A manager calls with a session (and CSRF) or with a personal access token that has
the `readings:write` scope.
"""

from __future__ import annotations

import base64
import binascii

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cer.api import tokens
from cer.api.models import TokenScope
from cer.core.access import public
from cer.metering.models import Device
from cer.metering.services import ReadingsRejected, authenticate_device, ingest_http_readings
from cer.plants.models import ConnectionPoint, Plant


def _error(status: int, field: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": {"field": field, "message": message}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="cer-metering", charset="UTF-8"'
    return response


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        username, _, secret = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    return username, secret


def _personal_token_secret(request: HttpRequest) -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not tokens.looks_like_personal_token(secret):
        return None
    return secret


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    """Apply the CSRF check the view is exempt from: a session call still needs the token."""
    middleware = CsrfViewMiddleware(_no_response)
    return middleware.process_view(request, _no_response, (), {})


def _no_response(request: HttpRequest) -> HttpResponse:
    # Stands in for a view that is not CSRF-exempt, so the middleware runs its check.
    return HttpResponse()


# Public at the routing level: each call authenticates itself, as a device (HTTP Basic
# with its MQTT credentials) or as a community manager's session (with CSRF).
@public
@csrf_exempt
@require_POST
def plant_readings(request: HttpRequest, plant_id: int) -> HttpResponse:
    """Readings of the connection point behind a plant."""
    plant = Plant.objects.select_related("connection_point__configuration__community").filter(
        pk=plant_id
    )
    if not plant:
        return _error(404, "plant", "no such plant")
    return _post_readings(request, plant[0].connection_point)


@public
@csrf_exempt
@require_POST
def point_readings(request: HttpRequest, pod: str) -> HttpResponse:
    """Readings of one connection point, one or many in a single body."""
    point = (
        ConnectionPoint.objects.select_related("configuration__community")
        .filter(pod=pod.upper())
        .first()
    )
    if point is None:
        return _error(404, "pod", "no such connection point")
    return _post_readings(request, point)


# What a personal access token needs here (the API's route checks read it).
plant_readings.token_scope = TokenScope.READINGS_WRITE  # type: ignore[attr-defined]
point_readings.token_scope = TokenScope.READINGS_WRITE  # type: ignore[attr-defined]


def _post_readings(request: HttpRequest, point: ConnectionPoint) -> HttpResponse:
    device: Device | None = None
    credentials = _basic_credentials(request)
    if credentials is not None:
        device = authenticate_device(username=credentials[0], secret=credentials[1])
        if device is None:
            return _error(401, "Authorization", "unknown device or wrong secret")
        if device.connection_point_id != point.pk:
            return _error(403, "Authorization", "this device belongs to another connection point")
    elif (secret := _personal_token_secret(request)) is not None:
        try:
            token = tokens.authenticate_secret(secret=secret, now=timezone.now())
        except tokens.TokenRefused:
            return _error(401, "Authorization", "personal access token invalid, expired or revoked")
        if not token.allows(TokenScope.READINGS_WRITE):
            return _error(403, "Authorization", "the token lacks the scope readings:write")
        if not token.owner.has_perm("communities.manage_community", point.configuration.community):
            return _error(403, "user", "only the community's referente or administrators")
    elif request.user.is_authenticated:
        failure = _csrf_failure(request)
        if failure is not None:
            return _error(403, "csrfmiddlewaretoken", "CSRF check failed")
        if not request.user.has_perm("communities.manage_community", point.configuration.community):
            return _error(403, "user", "only the community's referente or administrators")
    else:
        return _error(401, "Authorization", "device credentials (HTTP Basic) or a session needed")
    try:
        outcome = ingest_http_readings(
            point=point,
            device=device,
            path=request.path,
            body=request.body,
            received_at=timezone.now(),
        )
    except ReadingsRejected as rejected:
        return _error(400, rejected.rejection.field, rejected.rejection.reason)
    return JsonResponse(
        {"accepted": outcome.new_readings, "duplicates": outcome.duplicate_readings},
        status=201 if outcome.new_readings else 200,
    )
