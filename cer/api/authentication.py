"""Tokens for integrations (JWT), their revocation, and the login lockout.

Tokens carry `pwd`, a digest of the user's password hash: changing the password
anywhere (API, web, admin) invalidates every access and refresh token issued
before, the same way Django invalidates sessions. Logging out blacklists the
refresh token and the access token presented with it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django_otp import devices_for_user, match_token
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, BlacklistMixin, RefreshToken

from cer.api import tokens
from cer.api.models import LoginFailure, PersonalAccessToken

# Five refused logins for one username from one address within fifteen minutes lock
# that pair out until the oldest of them leaves the window (OWASP ASVS 2.2.1).
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = dt.timedelta(minutes=15)
PASSWORD_CLAIM = "pwd"  # noqa: S105 (a claim name)


def password_digest(user: AbstractBaseUser) -> str:
    """Return a short digest of the user's password hash, which changes with the password."""
    return salted_hmac("cer.api.token-password", user.password, algorithm="sha256").hexdigest()[:24]


class ApiAccessToken(BlacklistMixin["ApiAccessToken"], AccessToken):
    """An access token that can be blacklisted, so that logging out ends it at once."""

    @classmethod
    def for_user(cls, user: Any) -> ApiAccessToken:  # type: ignore[override]
        # Access tokens enter the outstanding list only when blacklisted.
        token = AccessToken.for_user.__func__(cls, user)  # type: ignore[attr-defined]
        token[PASSWORD_CLAIM] = password_digest(user)
        return token


class ApiRefreshToken(RefreshToken):
    access_token_class = ApiAccessToken

    @classmethod
    def for_user(cls, user: Any) -> ApiRefreshToken:  # type: ignore[override]
        token = cast(ApiRefreshToken, super().for_user(user))
        token[PASSWORD_CLAIM] = password_digest(user)
        return token


def check_password_claim(token: Any, user: AbstractBaseUser) -> None:
    """Raise InvalidToken when the token predates the user's current password."""
    claim = token.payload.get(PASSWORD_CLAIM, "")
    if not constant_time_compare(claim, password_digest(user)):
        raise InvalidToken(_("The token was issued before the password changed."))


class ApiJWTAuthentication(JWTAuthentication):
    """Bearer access tokens, checked against the blacklist and the current password."""

    def get_validated_token(self, raw_token: bytes) -> ApiAccessToken:
        try:
            return ApiAccessToken(raw_token)  # type: ignore[arg-type]
        except TokenError as error:
            raise InvalidToken(str(error)) from error

    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        check_password_claim(validated_token, user)
        return user


class PersonalTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer cer_pat_...`; any other bearer token is left to the JWT class.

    `request.auth` is then the PersonalAccessToken, whose scopes TokenScopes enforces.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, PersonalAccessToken] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != self.keyword:
            return None
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        if not tokens.looks_like_personal_token(secret):
            return None
        try:
            token = tokens.authenticate_secret(secret=secret, now=timezone.now())
        except tokens.TokenRefused as refused:
            raise AuthenticationFailed(
                _("The personal access token is not valid, expired or revoked."),
                code="token_not_valid",
            ) from refused
        return token.owner, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def issue_tokens(*, user: AbstractBaseUser) -> dict[str, str]:
    """Return a fresh access and refresh token pair for `user`."""
    refresh = ApiRefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def revoke_all_tokens(*, user: Any) -> int:
    """Blacklist every outstanding refresh token of `user`; return how many were new."""
    revoked = 0
    with transaction.atomic():
        for token in OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True):
            BlacklistedToken.objects.get_or_create(token=token)
            revoked += 1
    return revoked


# --- login --------------------------------------------------------------------------------


class LoginRefused(Exception):
    """Wrong credentials (never says which part was wrong)."""


class LoginLockedOut(Exception):
    """Too many failures for this username and address; `retry_after` [s]."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"locked out for {retry_after} s")
        self.retry_after = retry_after


class SecondFactorRequired(Exception):
    """The user has a confirmed TOTP device and sent no code or a wrong one."""

    def __init__(self, *, missing: bool) -> None:
        super().__init__("otp missing" if missing else "otp wrong")
        self.missing = missing


def client_address(request: Request) -> str:
    """Return the client's IP address as the WSGI server saw it.

    Behind the TLS proxy this is the proxy unless the proxy rewrites REMOTE_ADDR
    (docs/api.md shows the nginx setting); X-Forwarded-For is never trusted here.
    """
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 (a key, not a bind)


def _lockout_wait(*, username: str, ip_address: str, now: dt.datetime) -> int:
    recent = LoginFailure.objects.filter(
        username=username, ip_address=ip_address, at__gt=now - LOCKOUT_WINDOW
    ).order_by("-at")
    times = list(recent.values_list("at", flat=True)[:LOCKOUT_FAILURES])
    if len(times) < LOCKOUT_FAILURES:
        return 0
    return max(1, math.ceil((times[-1] + LOCKOUT_WINDOW - now).total_seconds()))


def log_in(
    *, username: str, password: str, otp: str, ip_address: str, now: dt.datetime
) -> AbstractBaseUser:
    """Check credentials (and the TOTP code when the user has a device); return the user.

    Raises LoginLockedOut, LoginRefused and SecondFactorRequired. A refused password
    and a refused code both count as failures for the lockout.
    """
    wait = _lockout_wait(username=username, ip_address=ip_address, now=now)
    if wait:
        raise LoginLockedOut(wait)
    user = authenticate(username=username, password=password)
    if user is None:
        _fail(username=username, ip_address=ip_address, now=now)
        raise LoginRefused(username)
    if any(True for _device in devices_for_user(user, confirmed=True)):
        if not otp:
            raise SecondFactorRequired(missing=True)
        if match_token(user, otp) is None:
            _fail(username=username, ip_address=ip_address, now=now)
            raise SecondFactorRequired(missing=False)
    LoginFailure.objects.filter(username=username, ip_address=ip_address).delete()
    if settings.SIMPLE_JWT.get("UPDATE_LAST_LOGIN"):
        user.last_login = now
        user.save(update_fields=["last_login"])
    return user


def _fail(*, username: str, ip_address: str, now: dt.datetime) -> None:
    LoginFailure.objects.create(username=username[:150], ip_address=ip_address, at=now)
