"""Personal access tokens: creating, revoking and checking them.

A secret is `cer_pat_` followed by 43 URL-safe characters (256 random bits). Its first
16 characters are kept as the prefix, to show which token is which and to find the
candidates of a presented secret; the whole secret is compared by its SHA-256 hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import rules
from django.db import transaction

from cer.accounts.models import PersonalAccessToken, TokenScope
from cer.audit.services import record

SECRET_PREFIX = "cer_pat_"  # noqa: S105 (a marker, not a secret)
PREFIX_LENGTH = 16
DEFAULT_LIFETIME = dt.timedelta(days=90)
MAX_LIFETIME = dt.timedelta(days=365)
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenRefused(Exception):
    """The secret is unknown, revoked or expired, or its owner is inactive."""


class LifetimeRefused(Exception):
    """The expiry is in the past or more than a year away."""


@dataclass(frozen=True)
class CreatedToken:
    token: PersonalAccessToken
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_personal_token(raw: str) -> bool:
    return raw.startswith(SECRET_PREFIX)


def create_token(
    *, owner: Any, name: str, scopes: list[str], now: dt.datetime, expires_at: dt.datetime | None
) -> CreatedToken:
    """Create a token for `owner` and record it in the audit log; return it with its secret.

    `expires_at` defaults to 90 days from `now` and may be at most a year away.
    Raises LifetimeRefused.
    """
    expires_at = expires_at or now + DEFAULT_LIFETIME
    if expires_at <= now or expires_at > now + MAX_LIFETIME:
        raise LifetimeRefused(expires_at)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    ordered_scopes = [scope for scope in TokenScope.values if scope in set(scopes)]
    with transaction.atomic():
        token = PersonalAccessToken.objects.create(
            owner=owner,
            name=name,
            scopes=ordered_scopes,
            prefix=secret[:PREFIX_LENGTH],
            secret_hash=hash_secret(secret),
            created_at=now,
            expires_at=expires_at,
        )
        record(
            actor=owner,
            code="api.personal_token.created",
            now=now,
            target=token,
            changes={
                "name": ["", name],
                "scopes": ["", " ".join(ordered_scopes)],
                "expires_at": ["", expires_at.isoformat()],
            },
        )
    return CreatedToken(token=token, secret=secret)


def revoke_token(*, token: PersonalAccessToken, actor: Any, now: dt.datetime) -> bool:
    """Revoke the token at `now` and record it; return False when it was already revoked."""
    with transaction.atomic():
        locked = PersonalAccessToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return False
        locked.revoked_at = now
        locked.save(update_fields=["revoked_at"])
        record(actor=actor, code="api.personal_token.revoked", now=now, target=locked)
    token.revoked_at = now
    return True


def authenticate_secret(*, secret: str, now: dt.datetime) -> PersonalAccessToken:
    """Return the usable token whose secret this is, noting its use. Raises TokenRefused."""
    if not looks_like_personal_token(secret) or len(secret) > 200:
        raise TokenRefused("malformed")
    presented = hash_secret(secret)
    candidates = PersonalAccessToken.objects.select_related("owner").filter(
        prefix=secret[:PREFIX_LENGTH]
    )
    # The prefix only narrows the search; the hash decides, compared in constant time.
    token = next((c for c in candidates if secrets.compare_digest(c.secret_hash, presented)), None)
    if token is None or not token.is_usable_at(now) or not token.owner.is_active:
        raise TokenRefused("unknown, revoked, expired or inactive owner")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_visible_to(user: Any) -> Any:
    """The user's own tokens; a superuser sees every token, to revoke a leaked one."""
    tokens = PersonalAccessToken.objects.all()
    if user.is_authenticated and user.is_superuser:
        return tokens
    return tokens.filter(owner_id=user.pk or 0)


@rules.predicate
def is_token_owner(user: Any, token: Any) -> bool:
    return bool(user.is_authenticated and token is not None and token.owner_id == user.pk)


rules.add_perm("accounts.manage_personal_token", is_token_owner)
