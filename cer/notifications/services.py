"""Tell someone something: `notify`, and what a user chooses about it.

Every part of the platform notifies through `notify`: it writes one inbox item per
recipient in the recipient's language and queues one delivery per channel the topic and
the recipient's preferences call for. When a queued delivery goes out is decided here:

- mandatory or urgent topics: at once (a mandatory one that is not urgent waits for the
  end of the recipient's quiet hours);
- the rest: in the recipient's daily digest, at NOTIFICATIONS_DIGEST_HOUR local time
  (or the end of their quiet hours, if later).

The sender (cer/notifications/delivery.py) sends what is due.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import translation

from cer.audit.services import record
from cer.core import formatting
from cer.notifications import channels, links, topics
from cer.notifications.models import (
    Delivery,
    Notification,
    Preference,
    RecipientSettings,
)

ROME = zoneinfo.ZoneInfo("Europe/Rome")


class BadLink(ValueError):
    """Raised when a notification's link is not a path on this site."""


class BadUnsubscribeToken(Exception):
    """Raised when an unsubscribe link was altered or belongs to no user."""


def notify(
    recipients: Iterable[Any],
    topic: str,
    context: Mapping[str, Any],
    *,
    link: str | None = None,
    urgent: bool = False,
    now: dt.datetime,
    community: Any = None,
    dedupe_key: str = "",
) -> list[Notification]:
    """Put a notification about `topic` in each recipient's inbox and queue its deliveries.

    `context` fills the topic's `{field}` placeholders: Decimal amounts are written as
    euros [EUR], dates and datetimes in words, each in the recipient's language. `link`
    is a path on this site (use links.site_path); `community` (anything with `pk` and
    `name`) is the sender's name and whose managers hear of a failed delivery;
    `dedupe_key` tells one condition once: a recipient who already has a notification
    with that key gets no other. Returns the notifications made.
    Raises topics.UnknownTopic, BadLink, and KeyError for a placeholder the context lacks.
    """
    spec = topics.get(topic)
    if link and not links.is_site_path(link):
        raise BadLink(link)
    immediate = urgent or spec.urgent
    made: list[Notification] = []
    with transaction.atomic():
        for user in _unique_active(recipients):
            told = Notification.objects.filter(user=user, dedupe_key=dedupe_key)
            if dedupe_key and told.exists():
                continue
            prefs = settings_of(user)
            with translation.override(prefs.language):
                values = {key: _readable(value) for key, value in context.items()}
                subject = str(spec.subject).format_map(values)[:200]
                body = str(spec.body).format_map(values)
            notification = Notification.objects.create(
                user=user,
                topic=spec.code,
                subject=subject,
                body=body,
                link=link or "",
                urgent=immediate,
                community_id=getattr(community, "pk", None),
                sender_name=str(getattr(community, "name", ""))[:200],
                dedupe_key=dedupe_key,
                created_at=now,
            )
            made.append(notification)
            for channel in channels.all_channels():
                if not channel_enabled(user, spec, channel.code):
                    continue
                digest = channel.carries_digest and not (spec.mandatory or immediate)
                if immediate:
                    due = now
                elif digest:
                    due = next_digest_at(now, prefs)
                else:
                    due = after_quiet_hours(now, prefs)
                Delivery.objects.create(
                    notification=notification,
                    channel=channel.code,
                    digest=digest,
                    next_attempt_at=due,
                )
    return made


def _unique_active(recipients: Iterable[Any]) -> list[Any]:
    seen: set[int] = set()
    users = []
    for user in recipients:
        if user is None or not getattr(user, "is_active", False) or user.pk in seen:
            continue
        seen.add(user.pk)
        users.append(user)
    return users


def _readable(value: Any) -> str:
    """Write one context value for a person, in the active language (cer.core.formatting)."""
    if isinstance(value, Decimal):
        return formatting.eur(value)
    if isinstance(value, dt.datetime):
        return formatting.moment(value)
    if isinstance(value, dt.date):
        return formatting.day(value)
    return str(value)


def settings_of(user: Any) -> RecipientSettings:
    """Return the user's quiet hours and language (defaults, unsaved, when never chosen)."""
    found = RecipientSettings.objects.filter(user=user).first()
    return found if found is not None else RecipientSettings(user=user)


def channel_enabled(user: Any, topic: topics.Topic, channel: str) -> bool:
    """Return whether `topic` goes to `user` on `channel`: their choice, else the default.

    A mandatory topic goes on its default channels whatever the user chose.
    """
    default = channel in topic.channels
    if topic.mandatory:
        return default
    choice = (
        Preference.objects.filter(user=user, topic=topic.code, channel=channel)
        .values_list("enabled", flat=True)
        .first()
    )
    return default if choice is None else bool(choice)


def _local_moment(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=ROME).astimezone(dt.UTC)


def after_quiet_hours(moment: dt.datetime, prefs: RecipientSettings) -> dt.datetime:
    """Return `moment`, or the end of the recipient's quiet hours when it falls in them."""
    local = moment.astimezone(ROME)
    if prefs.quiet_to is None or not prefs.is_quiet_at(local.time()):
        return moment
    day = local.date()
    if prefs.quiet_to <= local.time():
        # In the evening part of quiet hours that cross midnight: they end tomorrow.
        day += dt.timedelta(days=1)
    return _local_moment(day, prefs.quiet_to)


def next_digest_at(moment: dt.datetime, prefs: RecipientSettings) -> dt.datetime:
    """Return when the digest holding a notification made at `moment` goes out.

    The next NOTIFICATIONS_DIGEST_HOUR (local time) after `moment`, moved to the end of
    the recipient's quiet hours when it falls in them.
    """
    hour = dt.time(int(getattr(settings, "NOTIFICATIONS_DIGEST_HOUR", 8)))
    local = moment.astimezone(ROME)
    due = _local_moment(local.date(), hour)
    if due <= moment:
        due = _local_moment(local.date() + dt.timedelta(days=1), hour)
    return after_quiet_hours(due, prefs)


def unread_count(user: Any) -> int:
    """How many notifications the user has not read."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(*, user: Any, now: dt.datetime, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications, or all of them, read; return how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=now)


def save_preferences(
    *,
    user: Any,
    enabled: Mapping[tuple[str, str], bool],
    quiet_from: dt.time | None,
    quiet_to: dt.time | None,
    language: str,
    now: dt.datetime,
) -> RecipientSettings:
    """Store the user's choices: `enabled` maps (topic, channel) to on or off.

    Choices about mandatory topics are ignored: they cannot be switched off.
    Raises ValueError for an unknown language.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValueError(language)
    with transaction.atomic():
        prefs, _created = RecipientSettings.objects.get_or_create(user=user)
        prefs.quiet_from, prefs.quiet_to, prefs.language = quiet_from, quiet_to, language
        prefs.save(update_fields=["quiet_from", "quiet_to", "language"])
        changes: dict[str, Any] = {
            "quiet_hours": [str(quiet_from or ""), str(quiet_to or "")],
            "language": language,
        }
        for (code, channel), on in enabled.items():
            spec = topics.get(code)
            if spec.mandatory:
                continue
            before = channel_enabled(user, spec, channel)
            Preference.objects.update_or_create(
                user=user, topic=code, channel=channel, defaults={"enabled": on}
            )
            if before != on:
                changes[f"{code}:{channel}"] = [before, on]
        record(actor=user, code="notifications.preferences.saved", now=now, changes=changes)
    return prefs


def unsubscribe_target(token: str) -> tuple[Any, topics.Topic, str]:
    """Return the user, topic and channel an unsubscribe token names.

    Raises BadUnsubscribeToken when the token was altered or names nothing that exists.
    """
    from django.contrib.auth import get_user_model

    try:
        user_id, code, channel = links.read_unsubscribe_token(token)
        user = get_user_model().objects.get(pk=user_id)
        spec = topics.get(code)
    except (signing.BadSignature, ValueError, KeyError, get_user_model().DoesNotExist) as error:
        raise BadUnsubscribeToken(token) from error
    return user, spec, channel


def unsubscribe(*, token: str, now: dt.datetime) -> tuple[Any, topics.Topic]:
    """Turn off the topic's messages on the channel the token names; return user and topic.

    Mandatory topics stay on. Raises BadUnsubscribeToken.
    """
    user, spec, channel = unsubscribe_target(token)
    if spec.mandatory:
        return user, spec
    with transaction.atomic():
        Preference.objects.update_or_create(
            user=user, topic=spec.code, channel=channel, defaults={"enabled": False}
        )
        record(
            actor=None,
            code="notifications.preference.unsubscribed",
            now=now,
            target=user,
            changes={"topic": spec.code, "channel": channel},
        )
    return user, spec
