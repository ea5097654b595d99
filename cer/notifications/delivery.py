"""The sender: send the deliveries that are due, once each, retrying with back-off.

`deliver_due(now)` is run by `manage.py deliver_notifications` (in a loop, or once from
a scheduler). It picks the due deliveries and claims each with one conditional UPDATE
(QUEUED or FAILED -> SENDING): of two senders running at the same time only one wins a
row, and only the winner sends it, so nothing is sent twice. The claim commits before
the message leaves; the outcome is written after.

A sender that dies between its claim and its outcome leaves the row SENDING; after
CLAIM_TIMEOUT the next round puts it back to FAILED and retries it. That is the one case
where a message may arrive twice (it left, the outcome was not written): preferred to
losing a security or money notice silently.

Failures: a permanent one (no address, an SMTP 5xx) stops at once; a temporary
one is retried after BACKOFF_BASE x 2^(attempts-1), capped at BACKOFF_CAP, up to
MAX_ATTEMPTS. A delivery that fails for good is shown to the community's managers in
their inbox. Digest deliveries of one user that fall due together leave as one e-mail.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from cer.notifications import channels, hooks, topics
from cer.notifications.channels.base import DeliveryFailed, Envelope
from cer.notifications.models import Delivery, DeliveryAttempt, DeliveryState
from cer.notifications.services import notify, settings_of

logger = logging.getLogger(__name__)

BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=6)
MAX_ATTEMPTS = 8
CLAIM_TIMEOUT = dt.timedelta(minutes=15)
BATCH = 500

_RETRIABLE = (DeliveryState.QUEUED, DeliveryState.FAILED)


@dataclass
class DeliveryReport:
    """How many deliveries one round sent, will retry, and gave up on."""

    sent: int = 0
    failed: int = 0
    permanent: int = 0
    recovered: int = 0
    messages: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next attempt after `attempts` failed ones: doubling, capped."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def deliver_due(now: dt.datetime) -> DeliveryReport:
    """Send every delivery due at `now`; return what happened.

    Safe to run in several processes at once: each delivery is sent by the one that
    claims it.
    """
    report = DeliveryReport()
    report.recovered = Delivery.objects.filter(
        state=DeliveryState.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(
        state=DeliveryState.FAILED, next_attempt_at=now, last_error="interrupted while sending"
    )
    due = list(
        Delivery.objects.filter(state__in=_RETRIABLE, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "digest", "channel", "notification__user_id")[:BATCH]
    )
    groups: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    for pk, digest, channel, user_id in due:
        # A digest groups a user's due digest deliveries; any other delivery goes alone.
        key = (user_id, channel, 0) if digest else (user_id, channel, pk)
        groups[key].append(pk)
    for ids in groups.values():
        claimed = [pk for pk in ids if _claim(pk, now)]
        if claimed:
            _send(claimed, now, report)
    return report


def _claim(pk: int, now: dt.datetime) -> bool:
    return bool(
        Delivery.objects.filter(pk=pk, state__in=_RETRIABLE, next_attempt_at__lte=now).update(
            state=DeliveryState.SENDING, claimed_at=now
        )
    )


def _send(ids: list[int], now: dt.datetime, report: DeliveryReport) -> None:
    deliveries = list(
        Delivery.objects.filter(pk__in=ids)
        .select_related("notification__user")
        .order_by("notification__created_at", "pk")
    )
    first = deliveries[0]
    user = first.notification.user
    names = {delivery.notification.sender_name for delivery in deliveries}
    envelope = Envelope(
        user=user,
        language=settings_of(user).language,
        sender_name=names.pop() if len(names) == 1 else "",
        notifications=[delivery.notification for delivery in deliveries],
        digest=first.digest,
    )
    try:
        channels.get(first.channel).send(envelope)
    except DeliveryFailed as error:
        _failed(deliveries, now, str(error), permanent=error.permanent, report=report)
    except Exception as error:
        # A bug in a channel must not leave rows claimed for ever: it counts as a failure.
        logger.exception("channel %s crashed", first.channel)
        _failed(deliveries, now, f"{type(error).__name__}: {error}", permanent=False, report=report)
    else:
        with transaction.atomic():
            for delivery in deliveries:
                delivery.state, delivery.sent_at = DeliveryState.SENT, now
                delivery.attempts += 1
                delivery.last_error = ""
            Delivery.objects.bulk_update(deliveries, ["state", "sent_at", "attempts", "last_error"])
            DeliveryAttempt.objects.bulk_create(
                DeliveryAttempt(delivery=delivery, at=now, outcome=DeliveryState.SENT)
                for delivery in deliveries
            )
        report.sent += len(deliveries)
        report.messages += 1


def _failed(
    deliveries: list[Delivery],
    now: dt.datetime,
    error: str,
    *,
    permanent: bool,
    report: DeliveryReport,
) -> None:
    given_up = []
    with transaction.atomic():
        for delivery in deliveries:
            delivery.attempts += 1
            delivery.last_error = error[:2000]
            if permanent or delivery.attempts >= MAX_ATTEMPTS:
                delivery.state = DeliveryState.PERMANENT_FAILURE
                given_up.append(delivery)
            else:
                delivery.state = DeliveryState.FAILED
                delivery.next_attempt_at = now + backoff(delivery.attempts)
        Delivery.objects.bulk_update(
            deliveries, ["attempts", "last_error", "state", "next_attempt_at"]
        )
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(delivery=delivery, at=now, outcome=delivery.state, error=error[:2000])
            for delivery in deliveries
        )
        for delivery in given_up:
            _tell_managers(delivery, now)
    report.permanent += len(given_up)
    report.failed += len(deliveries) - len(given_up)
    report.errors.append(error)
    logger.info("delivery %s failed: %s", [d.pk for d in deliveries], error)


class _Community:
    """The id and name a failed notification kept: enough to sign the warning with."""

    def __init__(self, pk: int | None, name: str) -> None:
        self.pk, self.name = pk, name


def _tell_managers(delivery: Delivery, now: dt.datetime) -> None:
    """Put a failed delivery in the inbox of the community's managers (not the recipient)."""
    notification = delivery.notification
    if notification.topic == topics.DELIVERY_FAILED.code:
        return
    user = notification.user
    managers = [
        manager
        for manager in hooks.managers_of(notification.community_id, now)
        if manager.pk != user.pk
    ]
    if not managers:
        logger.warning("delivery %s failed for good and nobody manages its community", delivery.pk)
        return
    recipient = user.get_full_name() or user.get_username()
    if user.email:
        recipient = f"{recipient} <{user.email}>"
    notify(
        managers,
        topics.DELIVERY_FAILED.code,
        {
            "recipient": recipient,
            "channel": channels.get(delivery.channel).label,
            "subject": notification.subject,
            "attempts": delivery.attempts,
            "error": delivery.last_error,
        },
        now=now,
        community=_Community(notification.community_id, notification.sender_name),
        dedupe_key=f"delivery-failed:{delivery.pk}",
    )
