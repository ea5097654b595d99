"""Logging in and out with tokens, the current user, password and second factor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle
from rest_framework_simplejwt.exceptions import TokenError

from cer.accounts import second_factor
from cer.accounts.login import (
    LoginLockedOut,
    LoginRefused,
    SecondFactorEnrolmentRequired,
    SecondFactorRequired,
    log_in,
)
from cer.accounts.policy import has_second_factor
from cer.accounts.revocation import revoke_everything
from cer.api import serializers as s
from cer.api.authentication import (
    ApiRefreshToken,
    RefreshReused,
    check_family,
    check_password_claim,
    issue_tokens,
    log_out,
    read_refresh_token,
    rotate_refresh_token,
)
from cer.api.errors import LockedOut
from cer.api.permissions import LOGGED_IN, PUBLIC, TOKENS_REFUSED
from cer.api.views.base import ApiView
from cer.audit.services import record
from cer.core.net import client_ip

BEARER = 'Bearer realm="api"'


class _TokenEndpoint(ApiView):
    """Token endpoints read credentials from the body only: no session, so no CSRF."""

    access_rule = PUBLIC
    authentication_classes: list[Any] = []
    throttle_classes = [AnonRateThrottle, ScopedRateThrottle]
    throttle_scope = "login"

    def get_authenticate_header(self, request: Request) -> str:
        return BEARER


@extend_schema(
    tags=["auth"],
    request=s.LoginSerializer,
    responses={200: s.TokenPairSerializer},
    description=(
        "Exchange username and password (and the TOTP code when the user has a second "
        "factor) for an access and a refresh token. Five failures for one username from "
        "one address within 15 minutes lock that pair out: 429 with Retry-After."
    ),
)
class LoginView(_TokenEndpoint):
    serializer_class = s.LoginSerializer

    def post(self, request: Request) -> Response:
        body = s.LoginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            user = log_in(
                username=body.validated_data["username"],
                password=body.validated_data["password"],
                otp=body.validated_data.get("otp", ""),
                ip_address=client_ip(request),
                now=self.now(),
            )
        except LoginLockedOut as locked:
            raise LockedOut(wait=locked.retry_after) from locked
        except LoginRefused as refused:
            raise exceptions.AuthenticationFailed(
                _("Wrong username or password."), code="invalid_credentials"
            ) from refused
        except SecondFactorRequired as second:
            message = (
                _("Give the code of your authenticator app.")
                if second.missing
                else _("The code is wrong or expired.")
            )
            failure = exceptions.AuthenticationFailed(message, code="otp_required")
            failure.fields = {"otp": [message]}  # type: ignore[attr-defined]
            raise failure from second
        except SecondFactorEnrolmentRequired as enrol:
            raise exceptions.PermissionDenied(
                _(
                    "Your role requires a second factor: set up an authenticator app "
                    "on the web (Account › Second factor) before using the API."
                ),
                code="second_factor_enrolment_required",
            ) from enrol
        return Response(issue_tokens(user=user, now=self.now()))


@extend_schema(
    tags=["auth"],
    request=s.RefreshSerializer,
    responses={200: s.TokenPairSerializer},
    description="Exchange a refresh token for a new pair; the old refresh token stops working.",
)
class RefreshView(_TokenEndpoint):
    serializer_class = s.RefreshSerializer

    def post(self, request: Request) -> Response:
        body = s.RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        refused = exceptions.AuthenticationFailed(
            _("The refresh token is not valid."), code="token_not_valid"
        )
        try:
            refresh = read_refresh_token(raw=body.validated_data["refresh"], now=self.now())
        except (TokenError, RefreshReused) as error:
            raise refused from error
        user = get_user_model().objects.filter(pk=refresh.get("user_id"), is_active=True).first()
        if user is None:
            raise refused
        try:
            check_password_claim(refresh, user)
            check_family(refresh)
            pair = rotate_refresh_token(refresh=refresh, now=self.now())
        except (exceptions.APIException, RefreshReused) as error:
            raise refused from error
        return Response(pair)


@extend_schema(
    tags=["auth"],
    request=s.RefreshSerializer,
    responses={204: None},
    description=(
        "End this login: the refresh token, the access token sent with this request and "
        "every other token descending from the same login stop working."
    ),
)
class LogoutView(ApiView):
    access_rule = LOGGED_IN
    token_scope = TOKENS_REFUSED
    serializer_class = s.RefreshSerializer

    def post(self, request: Request) -> Response:
        body = s.RefreshSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            refresh = ApiRefreshToken(body.validated_data["refresh"])
        except TokenError as error:
            raise exceptions.ValidationError(
                {"refresh": [_("The refresh token is not valid.")]}
            ) from error
        if str(refresh.get("user_id")) != str(request.user.pk):
            raise exceptions.ValidationError({"refresh": [_("The refresh token is not yours.")]})
        log_out(refresh=refresh, access=request.auth, now=self.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


def _me(request: Request) -> dict[str, Any]:
    user = request.user
    member = getattr(user, "member", None)
    serialized = s.MemberSerializer(member, context={"request": request}).data if member else None
    return {
        "id": user.pk,
        "username": user.get_username(),
        "email": user.email,
        "member": serialized,
        "has_second_factor": has_second_factor(user),
    }


@extend_schema(tags=["me"], responses={200: s.MeSerializer})
class MeView(ApiView):
    access_rule = LOGGED_IN

    def get(self, request: Request) -> Response:
        return Response(_me(request))


@extend_schema(
    tags=["me"],
    request=s.PasswordChangeSerializer,
    responses={204: None},
    description=(
        "Change the password; every session, refresh token and personal access token "
        "issued before stops working."
    ),
)
class PasswordChangeView(ApiView):
    access_rule = LOGGED_IN
    token_scope = TOKENS_REFUSED
    serializer_class = s.PasswordChangeSerializer

    def post(self, request: Request) -> Response:
        body = s.PasswordChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = request.user
        if not user.check_password(body.validated_data["current_password"]):
            raise exceptions.ValidationError(
                {"current_password": [_("The current password is wrong.")]}
            )
        try:
            validate_password(body.validated_data["new_password"], user)
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"new_password": error.messages}) from error
        with transaction.atomic():
            user.set_password(body.validated_data["new_password"])
            user.save(update_fields=["password"])
            revoke_everything(
                user=user,
                now=self.now(),
                reason="password changed",
                keep_session_key=request._request.session.session_key,
            )
            record(actor=user, code="accounts.password.changed", now=self.now(), target=user)
        if isinstance(request.successful_authenticator, SessionAuthentication):
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["me"],
    request=None,
    responses={201: s.TotpEnrolmentSerializer},
    description=(
        "Start enrolling an authenticator app: returns the otpauth:// URL to scan. "
        "The factor is required at login once confirmed."
    ),
)
class SecondFactorView(ApiView):
    access_rule = LOGGED_IN
    token_scope = TOKENS_REFUSED

    def post(self, request: Request) -> Response:
        if has_second_factor(request.user):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("A second factor is already active.")]}
            )
        device = second_factor.pending_authenticator(request.user)
        return Response({"config_url": device.config_url}, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["me"],
    request=s.TotpConfirmSerializer,
    responses={200: s.RecoveryCodesSerializer},
    description=(
        "Confirm the authenticator app with a current code; the answer holds ten "
        "one-time recovery codes, shown only this once."
    ),
)
class SecondFactorConfirmView(ApiView):
    access_rule = LOGGED_IN
    token_scope = TOKENS_REFUSED
    serializer_class = s.TotpConfirmSerializer

    def post(self, request: Request) -> Response:
        body = s.TotpConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        confirmed = second_factor.confirm_authenticator(
            user=request.user, otp=body.validated_data["otp"], now=self.now()
        )
        if confirmed is None:
            raise exceptions.ValidationError({"otp": [_("The code is wrong or expired.")]})
        response = Response({"recovery_codes": confirmed[1]})
        response["Cache-Control"] = "no-store"
        return response
