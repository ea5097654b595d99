"""How long rejected messages, quarantined counter values and the digests of accepted
status messages are kept.

Rejected messages are the evidence behind every refused reading; the digests of accepted
messages stamped on arrival (IngestedMessage) recognise a copy the broker redelivers,
which happens within the worker's session, never weeks later.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from cer.metering.models import CounterSample, CounterState, IngestedMessage, RejectedMessage

logger = logging.getLogger(__name__)

# A floor under the setting: a period set too short by mistake must not wipe messages
# that the community's managers have had no chance to look at yet.
MIN_RETENTION_DAYS = 30
# Digests of accepted messages: kept as long as a rejected copy is looked for
# (recording.REDELIVERY_WINDOW, 7 days) at least; the broker queues about a day.
DEFAULT_INGESTED_RETENTION_DAYS = 30
MIN_INGESTED_RETENTION_DAYS = 7


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


def ingested_message_retention_days() -> int:
    """Return the days a digest is kept: INGESTED_MESSAGE_RETENTION_DAYS (30), at least 7."""
    days = getattr(settings, "INGESTED_MESSAGE_RETENTION_DAYS", DEFAULT_INGESTED_RETENTION_DAYS)
    return max(int(days), MIN_INGESTED_RETENTION_DAYS)


def delete_expired_ingested(*, now: dt.datetime) -> int:
    """Delete the digests of accepted messages received before their period; return how many."""
    horizon = now - dt.timedelta(days=ingested_message_retention_days())
    deleted, _detail = IngestedMessage.objects.filter(received_at__lt=horizon).delete()
    if deleted:
        logger.info("metering.ingested.expired %s received before %s", deleted, horizon)
    return deleted
