"""Giving and withdrawing consents under the published privacy notice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from cer.audit.services import record
from cer.privacy.models import Consent, ConsentPurpose, PrivacyNotice

# Purposes a member cannot refuse and still take part: the contract and the legal duty.
REQUIRED_PURPOSES = (ConsentPurpose.MEMBERSHIP, ConsentPurpose.GSE_REPORTING)


class NoPublishedNotice(Exception):
    """Raised when no privacy notice has been published yet."""


def current_notice(*, now: dt.datetime) -> PrivacyNotice:
    """Return the latest notice published by `now`; raise NoPublishedNotice if none."""
    notice = PrivacyNotice.objects.filter(published_at__lte=now).order_by("-published_at").first()
    if notice is None:
        raise NoPublishedNotice
    return notice


def give_consents(
    *, user: Any, notice: PrivacyNotice, purposes: Iterable[str], now: dt.datetime
) -> list[Consent]:
    """Record the user's consent to each purpose under `notice`, replacing an older one.

    A consent already active under the same notice is kept as it is.
    """
    given = []
    with transaction.atomic():
        for purpose in purposes:
            active = Consent.objects.filter(
                user=user, purpose=purpose, withdrawn_at__isnull=True
            ).first()
            if active is not None and active.notice_id == notice.pk:
                continue
            if active is not None:
                active.withdrawn_at = now
                active.save(update_fields=["withdrawn_at"])
            consent = Consent.objects.create(
                user=user, purpose=purpose, notice=notice, given_at=now
            )
            given.append(consent)
            record(
                actor=user,
                code="privacy.consent.given",
                now=now,
                target=consent,
                changes={"purpose": purpose, "notice": notice.version},
            )
    return given


def withdraw_consent(*, user: Any, purpose: str, now: dt.datetime) -> bool:
    """Withdraw the user's active consent to `purpose`; return False when there was none."""
    with transaction.atomic():
        consent = (
            Consent.objects.select_for_update()
            .filter(user=user, purpose=purpose, withdrawn_at__isnull=True)
            .first()
        )
        if consent is None:
            return False
        consent.withdrawn_at = now
        consent.save(update_fields=["withdrawn_at"])
        record(
            actor=user,
            code="privacy.consent.withdrawn",
            now=now,
            target=consent,
            changes={"purpose": purpose},
        )
    return True


def active_purposes(user: Any) -> set[str]:
    return set(
        Consent.objects.filter(user=user, withdrawn_at__isnull=True).values_list(
            "purpose", flat=True
        )
    )
