"""How API requests authenticate: JWT pairs from the API login, personal access tokens,
and the web session (only once it has passed the second factor where one is required).

Tokens carry `pwd`, a digest of the user's password hash: changing the password
anywhere invalidates every access and refresh token issued before, the same way
Django invalidates sessions. They also carry `fam`, the id of the login they descend
from: logging out, replaying a used refresh token or changing the password ends the
whole family, access tokens included. Logging in, lockout and the second factor
are the accounts app's (`cer.accounts.login`), shared with the web and admin logins.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenBackendError, TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, BlacklistMixin, RefreshToken

from cer.accounts import tokens
from cer.accounts.models import PersonalAccessToken, TokenFamily
from cer.accounts.policy import second_factor_required
from cer.accounts.revocation import revoke_family
from cer.accounts.views import passed_strong_authentication

PASSWORD_CLAIM = "pwd"  # noqa: S105 (a claim name)
FAMILY_CLAIM = "fam"


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


def check_family(token: Any) -> None:
    """Raise InvalidToken when the login the token descends from has been ended."""
    family = token.payload.get(FAMILY_CLAIM, "")
    if not TokenFamily.objects.filter(pk=family, revoked_at__isnull=True).exists():
        raise InvalidToken(_("The session this token belongs to has ended."))


class ApiJWTAuthentication(JWTAuthentication):
    """Bearer access tokens, checked against the blacklist, the login and the password."""

    def get_validated_token(self, raw_token: bytes) -> ApiAccessToken:
        try:
            return ApiAccessToken(raw_token)  # type: ignore[arg-type]
        except TokenError as error:
            raise InvalidToken(str(error)) from error

    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        check_password_claim(validated_token, user)
        check_family(validated_token)
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


class VerifiedSessionAuthentication(SessionAuthentication):
    """The web session, refused while it has not passed a required second factor.

    A session that began with a strong login (SPID or CIE at level 2 or above) needs no
    second factor, as on the web pages (cer.accounts.views.passed_strong_authentication).
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        user = found[0]
        if second_factor_required(user) and not passed_strong_authentication(request._request):
            return None
        return found


def issue_tokens(*, user: Any, now: dt.datetime | None = None) -> dict[str, str]:
    """Start an API login for `user`: a new token family and its first pair."""
    family = TokenFamily.objects.create(
        id=secrets.token_hex(16), user=user, created_at=now or timezone.now()
    )
    refresh = ApiRefreshToken.for_user(user)
    refresh[FAMILY_CLAIM] = family.pk
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class RefreshReused(Exception):
    """A refresh token was presented after it had been used: its family is ended."""


def read_refresh_token(*, raw: str, now: dt.datetime) -> ApiRefreshToken:
    """Return the valid refresh token `raw`. Raises TokenError, or RefreshReused when
    it is genuine but already used: then its whole family is ended first."""
    try:
        return ApiRefreshToken(raw)  # type: ignore[arg-type]
    except TokenError:
        try:
            payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
        except TokenBackendError:
            raise TokenError("not a valid token") from None
        # Genuine (signature and expiry checked) but refused: only the blacklist is left.
        if BlacklistedToken.objects.filter(token__jti=payload.get("jti", "")).exists():
            revoke_family(family_id=payload.get(FAMILY_CLAIM, ""), now=now, reason="reused")
            raise RefreshReused(payload.get("jti", "")) from None
        raise


def rotate_refresh_token(*, refresh: ApiRefreshToken, now: dt.datetime) -> dict[str, str]:
    """Use `refresh` once: blacklist it and return the next pair of the same family.

    Two requests with the same token race on the blacklist's unique row: one wins, the
    other is refused and, as a replay may mean theft, ends the family (RFC 9700 §4.14.2).
    """
    jti = refresh.payload.get("jti", "")
    try:
        with transaction.atomic():
            outstanding = OutstandingToken.objects.select_for_update().get(jti=jti)
            BlacklistedToken.objects.create(token=outstanding)
    except (OutstandingToken.DoesNotExist, IntegrityError) as error:
        revoke_family(family_id=refresh.payload.get(FAMILY_CLAIM, ""), now=now, reason="reused")
        raise RefreshReused(jti) from error
    refresh.set_jti()
    refresh.set_exp()
    refresh.set_iat()
    refresh.outstand()
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def log_out(*, refresh: ApiRefreshToken, access: Any, now: dt.datetime) -> None:
    """End the login both tokens belong to (every token of its family)."""
    refresh.blacklist()
    if isinstance(access, ApiAccessToken):
        access.blacklist()
    revoke_family(family_id=refresh.payload.get(FAMILY_CLAIM, ""), now=now, reason="logout")
