"""How long rejected messages and quarantined counter values are kept."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from cer.metering.models import CounterSample, CounterState, RejectedMessage

logger = logging.getLogger(__name__)

# A floor under the setting: a period set too short by mistake must not wipe messages
# that the community's managers have had no chance to look at yet.
MIN_RETENTION_DAYS = 30


def rejected_message_retention_days() -> int:
    """Return the days a rejected message is kept: REJECTED_MESSAGE_RETENTION_DAYS, at least 30."""
    return max(int(settings.REJECTED_MESSAGE_RETENTION_DAYS), MIN_RETENTION_DAYS)


def delete_expired_rejections(*, now: dt.datetime) -> int:
    """Delete the rejected messages received before the retention period; return how many."""
    horizon = now - dt.timedelta(days=rejected_message_retention_days())
    deleted, _detail = RejectedMessage.objects.filter(received_at__lt=horizon).delete()
    if deleted:
        logger.info("metering.rejections.expired %s received before %s", deleted, horizon)
    return deleted


def quarantine_retention_days() -> int:
    """Return the days a quarantined counter value is kept: COUNTER_QUARANTINE_RETENTION_DAYS.

    At least 30, like rejected messages.
    """
    days = int(getattr(settings, "COUNTER_QUARANTINE_RETENTION_DAYS", 365))
    return max(days, MIN_RETENTION_DAYS)


def delete_expired_quarantine(*, now: dt.datetime) -> int:
    """Delete counter values in quarantine or discarded, received before the period.

    Released values and meters' start readings are links of a chain and stay. Returns how
    many were deleted.
    """
    horizon = now - dt.timedelta(days=quarantine_retention_days())
    deleted, _detail = CounterSample.objects.filter(
        state__in=[CounterState.QUARANTINED, CounterState.DISCARDED], received_at__lt=horizon
    ).delete()
    if deleted:
        logger.info("metering.quarantine.expired %s received before %s", deleted, horizon)
    return deleted
