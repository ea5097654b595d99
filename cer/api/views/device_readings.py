"""HTTP ingestion: the platform's JSON readings posted by a device or by a community manager.

A device authenticates with HTTP Basic (its MQTT username and secret); a manager calls
with a session (CSRF token, second factor where required, as everywhere in the API) or
with a personal access token that has the `readings:write` scope. The caller is
authenticated before the connection point is looked up, so an unknown POD or plant
answers exactly as a known one does. Requests are counted per client address and per
device username, and wrong device secrets are bounded (cer.metering.limits): over a
limit the answer is 429 with Retry-After.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from cer.accounts import tokens
from cer.accounts.models import TokenScope
from cer.api.authentication import VerifiedSessionAuthentication
from cer.api.device_schema import (
    DEVICE_BASIC_SCHEME_NAME,
    INGEST_ERROR,
    OUTCOME,
    READINGS_BODY,
)
from cer.api.permissions import PUBLIC, FollowsAccessRule
from cer.core.net import client_ip
from cer.metering import limits
from cer.metering.devices import DeviceLockedOut, authenticate_device
from cer.metering.models import Device
from cer.metering.recording import ReadingsRejected, ingest_http_readings
from cer.plants.models import ConnectionPoint, Plant

MANAGE = "communities.manage_community"


def _error(status: int, field: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": {"field": field, "message": message}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="cer-metering", charset="UTF-8"'
    return response


def _too_many(retry_after: int) -> JsonResponse:
    # One answer for every limit, so it tells nothing about which usernames exist.
    response = _error(429, "Authorization", _("too many requests: retry after Retry-After seconds"))
    response["Retry-After"] = str(retry_after)
    return response


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        username, _sep, secret = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    return username, secret


def _personal_token_secret(request: HttpRequest) -> str | None:
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not tokens.looks_like_personal_token(secret):
        return None
    return secret


@dataclass(frozen=True)
class _Caller:
    """Who posts: a device, or a user (session or personal access token)."""

    device: Device | None = None
    user: Any = None


def _authenticate(request: Request) -> _Caller | JsonResponse:
    """Return the caller, or the refusal; nothing here depends on the URL's target."""
    now = timezone.now()
    http: HttpRequest = request._request
    address = client_ip(http)  # as for the login lockout: forwarded by our proxies only
    per_address = limits.requests_per_address()
    if per_address.exceeded(address, now=now):
        return _too_many(per_address.retry_after(now=now))
    credentials = _basic_credentials(http)
    if credentials is not None:
        username, secret = credentials
        per_device = limits.requests_per_device()
        if per_device.exceeded(username, now=now):
            return _too_many(per_device.retry_after(now=now))
        try:
            device = authenticate_device(
                username=username, secret=secret, client_address=address, now=now
            )
        except DeviceLockedOut as locked:
            return _too_many(locked.retry_after)
        if device is None:
            return _error(401, "Authorization", _("unknown device or wrong secret"))
        return _Caller(device=device)
    if (token_secret := _personal_token_secret(http)) is not None:
        try:
            token = tokens.authenticate_secret(secret=token_secret, now=now)
        except tokens.TokenRefused:
            return _error(
                401, "Authorization", _("personal access token invalid, expired or revoked")
            )
        if not token.allows(TokenScope.READINGS_WRITE):
            return _error(403, "Authorization", _("the token lacks the scope readings:write"))
        return _Caller(user=token.owner)
    try:
        # The API's own session rule: CSRF on writes, and the second factor where one is
        # required (the web middleware leaves /api/ to it).
        session = VerifiedSessionAuthentication().authenticate(request)
    except PermissionDenied:
        return _error(403, "csrfmiddlewaretoken", _("CSRF check failed"))
    if session is not None:
        return _Caller(user=session[0])
    return _error(401, "Authorization", _("device credentials (HTTP Basic) or a session needed"))


class _RawBody(BaseParser):
    """Leave the body to the view, which hands the raw bytes to the ingestion service.

    DRF parses a body when something reads `request.POST` (its session CSRF check
    does); this keeps the stream unread, so `HttpRequest.body` stays available.
    """

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return {}


class _AlwaysJson(BaseContentNegotiation):
    """Answer JSON whatever Accept says (devices send all sorts of headers, or none), and
    take any body as raw bytes."""

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser:
        return parsers[0]

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


def _refusal(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=INGEST_ERROR, description=description)


# Security requirements, one per way in. (drf-spectacular annotates `auth` as a list of
# strings, but writes the list as the operation's `security`, which holds objects.)
CALLERS: Any = [{DEVICE_BASIC_SCHEME_NAME: []}, {"personalTokenAuth": []}, {"cookieAuth": []}]

INGEST_SCHEMA = extend_schema(
    tags=["readings"],
    request={"application/json": READINGS_BODY},
    auth=CALLERS,
    parameters=[
        OpenApiParameter(
            "WWW-Authenticate",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[401],
            description='`Basic realm="cer-metering"`.',
        ),
        OpenApiParameter(
            "Retry-After",
            OpenApiTypes.INT,
            OpenApiParameter.HEADER,
            response=[429],
            description="Seconds until the limit's window ends.",
        ),
    ],
    responses={
        201: OpenApiResponse(response=OUTCOME, description="Readings recorded."),
        200: OpenApiResponse(response=OUTCOME, description="Nothing new: all duplicates."),
        400: _refusal("Readings refused (stored as a rejected message); `field` names the fault."),
        401: _refusal(
            "No valid credentials: the same answer for an unknown POD or plant, an unknown "
            "device and a wrong secret."
        ),
        403: _refusal(
            "A device posting for another point (or an unknown one), a user who does not "
            "manage the point's community (or an unknown one), a token without "
            "`readings:write`, a session without CSRF token."
        ),
        429: _refusal(
            "Too many requests from the address or for the device username, or too many "
            "wrong secrets (checked again when the window ends)."
        ),
    },
)


class _ReadingsView(APIView):
    """What both ingestion endpoints share: the caller first, then the target."""

    # Public at the routing level: each call authenticates itself (see _authenticate),
    # so DRF's authentication and throttles are off.
    access_rule = PUBLIC
    # What a personal access token needs here (the API's route checks read it).
    token_scope = TokenScope.READINGS_WRITE
    authentication_classes: list[Any] = []
    permission_classes = [FollowsAccessRule]
    throttle_classes: list[Any] = []
    parser_classes = [_RawBody]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _AlwaysJson
    # OPTIONS describes nothing the schema does not: answer it with 405.
    metadata_class = None

    def perform_authentication(self, request: Request) -> None:
        # Left to _authenticate. Resolving `request.user` here would also overwrite the
        # session user on the underlying request with an anonymous one.
        return None

    def target(self, **kwargs: Any) -> ConnectionPoint | None:
        raise NotImplementedError

    def record(self, request: Request, **kwargs: Any) -> HttpResponse:
        django_request: HttpRequest = request._request
        caller = _authenticate(request)
        if isinstance(caller, HttpResponse):
            return caller
        point = self.target(**kwargs)
        if caller.device is not None:
            if point is None or point.pk != caller.device.connection_point_id:
                return _error(
                    403, "Authorization", _("this device belongs to another connection point")
                )
        elif point is None or not caller.user.has_perm(MANAGE, point.configuration.community):
            # The same answer whether the point exists or not: no oracle for POD numbers.
            return _error(
                403, "user", _("only the referente or administrators of the point's community")
            )
        try:
            outcome = ingest_http_readings(
                point=point,
                device=caller.device,
                path=django_request.path,
                body=django_request.body,
                received_at=timezone.now(),
            )
        except ReadingsRejected as rejected:
            return _error(400, rejected.rejection.field, rejected.rejection.reason)
        return JsonResponse(
            {"accepted": outcome.new_readings, "duplicates": outcome.duplicate_readings},
            status=201 if outcome.new_readings else 200,
        )


class PlantReadings(_ReadingsView):
    """Readings of the connection point behind a plant."""

    def target(self, **kwargs: Any) -> ConnectionPoint | None:
        plant = (
            Plant.objects.select_related("connection_point__configuration__community")
            .filter(pk=kwargs["plant_id"])
            .first()
        )
        return plant.connection_point if plant is not None else None

    @INGEST_SCHEMA
    def post(self, request: Request, plant_id: int) -> HttpResponse:
        """Post readings of the connection point behind a plant, as a device or a manager."""
        return self.record(request, plant_id=plant_id)


class PointReadings(_ReadingsView):
    """Readings of one connection point, one or many in a single body."""

    def target(self, **kwargs: Any) -> ConnectionPoint | None:
        return (
            ConnectionPoint.objects.select_related("configuration__community")
            .filter(pod=kwargs["pod"].upper())
            .first()
        )

    @INGEST_SCHEMA
    def post(self, request: Request, pod: str) -> HttpResponse:
        """Post readings of one connection point (by POD), as a device or a manager."""
        return self.record(request, pod=pod)


plant_readings = PlantReadings.as_view()
point_readings = PointReadings.as_view()
