"""How long rejected messages are kept: the evidence behind every refused reading."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from cer.metering.models import RejectedMessage

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
