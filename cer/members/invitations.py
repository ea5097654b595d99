"""Resending and revoking an invitation: what a manager does with a link already sent.

Resending replaces the link (a new token, a new expiry) rather than repeating the old one:
only the hash of a token is stored, so the old link cannot be sent again, and the old link
stops working the moment the new one exists. Revoking stops the link at once; the row
stays, for the record. Both are audited; the web page and the API call these functions.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import translation

from cer.audit.services import record
from cer.members.models import Invitation
from cer.members.services import INVITATION_VALIDITY, hash_token, send_invitation


class InvitationClosed(Exception):
    """Raised when resending or revoking an invitation already used or revoked."""


def _locked_open(invitation: Invitation) -> Invitation:
    locked = (
        Invitation.objects.select_for_update().select_related("community").get(pk=invitation.pk)
    )
    if locked.used_at is not None or locked.revoked_at is not None:
        raise InvitationClosed
    return locked


def resend_invitation(
    *,
    invitation: Invitation,
    actor: Any,
    now: dt.datetime,
    url_for_token: Callable[[str], str],
) -> Invitation:
    """Send the invitation again with a new link valid for the usual period; the old link dies.

    An expired invitation can be resent too. Raises InvitationClosed when it was used or
    revoked (a new invitation is then the way).
    """
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = _locked_open(invitation)
        locked.token_hash = hash_token(token)
        locked.expires_at = now + INVITATION_VALIDITY
        locked.invited_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.save(update_fields=["token_hash", "expires_at", "invited_by"])
        record(
            actor=actor,
            code="members.invitation.resent",
            now=now,
            target=locked,
            community=locked.community,
            changes={"email": locked.email, "expires_at": locked.expires_at.isoformat()},
        )
        url = url_for_token(token)
        language = translation.get_language()
        transaction.on_commit(lambda: send_invitation(locked, url, language))
    invitation.refresh_from_db()
    return invitation


def revoke_invitation(*, invitation: Invitation, actor: Any, now: dt.datetime) -> Invitation:
    """Stop the invitation's link from working. Raises InvitationClosed when used or revoked."""
    with transaction.atomic():
        locked = _locked_open(invitation)
        locked.revoked_at = now
        locked.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            code="members.invitation.revoked",
            now=now,
            target=locked,
            community=locked.community,
            changes={"email": locked.email},
        )
    invitation.refresh_from_db()
    return invitation
