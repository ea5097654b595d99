"""Ending credentials: sessions, API logins (token families) and personal tokens.

A password change or reset, an administrator's reset of the second factor and an
erasure end everything a user holds; a logout ends what that login issued.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.sessions.models import Session
from django.db import transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from cer.accounts.models import PersonalAccessToken, TokenFamily


def revoke_family(*, family_id: str, now: dt.datetime, reason: str) -> None:
    """End every access and refresh token of one API login."""
    TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=True).update(
        revoked_at=now, revoked_because=reason[:40]
    )


def revoke_all_tokens(*, user: Any, now: dt.datetime | None = None, reason: str = "revoked") -> int:
    """Blacklist every outstanding refresh token of `user` and end all their API logins.

    Returns how many refresh tokens were newly blacklisted.
    """
    from django.utils import timezone

    now = now or timezone.now()
    revoked = 0
    with transaction.atomic():
        for token in OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True):
            BlacklistedToken.objects.get_or_create(token=token)
            revoked += 1
        TokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=now, revoked_because=reason[:40]
        )
    return revoked


def revoke_personal_tokens(*, user: Any, now: dt.datetime) -> int:
    return PersonalAccessToken.objects.filter(owner=user, revoked_at__isnull=True).update(
        revoked_at=now
    )


def end_sessions(*, user: Any, keep_session_key: str | None = None) -> int:
    """Delete the user's web sessions (but `keep_session_key`); return how many.

    Sessions are signed blobs without a user column: the live ones are decoded. That
    is one pass over the sessions not yet expired, fine for the hundreds or thousands
    of sessions a platform of communities holds.
    """
    from django.utils import timezone

    doomed = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.session_key != keep_session_key
        and str(session.get_decoded().get("_auth_user_id")) == str(user.pk)
    ]
    Session.objects.filter(session_key__in=doomed).delete()
    return len(doomed)


def revoke_everything(
    *, user: Any, now: dt.datetime, reason: str, keep_session_key: str | None = None
) -> dict[str, int]:
    """End every session, API login and personal token of `user`; return the counts."""
    return {
        "refresh_tokens": revoke_all_tokens(user=user, now=now, reason=reason),
        "personal_tokens": revoke_personal_tokens(user=user, now=now),
        "sessions": end_sessions(user=user, keep_session_key=keep_session_key),
    }
