"""notify(): inbox items in the reader's language, deliveries by preference, quiet hours, digest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.notifications import topics
from cer.notifications.models import Delivery, Notification, Preference, RecipientSettings
from cer.notifications.services import (
    BadLink,
    after_quiet_hours,
    next_digest_at,
    notify,
    save_preferences,
)
from tests.notifications.conftest import MONEY, NOW, PLAIN, make_user

pytestmark = pytest.mark.django_db


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


CONTEXT = {"name": "Lucia", "amount": Decimal("1234.5"), "day": dt.date(2026, 3, 29)}


def test_the_inbox_item_is_written_in_the_recipients_language_with_formatted_values(user):
    english = make_user()
    RecipientSettings.objects.create(user=english, language="en")

    notify([user, english], PLAIN.code, CONTEXT, link="/members/profile/", now=NOW)

    italian_item = Notification.objects.get(user=user)
    english_item = Notification.objects.get(user=english)
    assert italian_item.body == "Amount 1.234,50\u00a0€ on 29 marzo 2026."
    assert english_item.body == "Amount €1,234.50 on 29 March 2026."
    assert italian_item.subject == "Hello Lucia"
    assert italian_item.link == "/members/profile/"
    assert italian_item.read_at is None


def test_a_non_urgent_topic_goes_to_the_next_digest_at_eight_in_rome(user):
    notify([user], PLAIN.code, CONTEXT, now=NOW)

    delivery = Delivery.objects.get()
    assert delivery.channel == "email"
    assert delivery.digest
    # 10:00 in Rome is past today's digest: tomorrow 08:00 (UTC+1) is 07:00 UTC.
    assert delivery.next_attempt_at == dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)


def test_an_urgent_notice_leaves_at_once_and_alone(user):
    notify([user], PLAIN.code, CONTEXT, urgent=True, now=NOW)

    delivery = Delivery.objects.get()
    assert not delivery.digest
    assert delivery.next_attempt_at == NOW


def test_a_user_who_turned_the_topics_email_off_gets_the_inbox_item_only(user):
    Preference.objects.create(user=user, topic=PLAIN.code, channel="email", enabled=False)

    notify([user], PLAIN.code, CONTEXT, now=NOW)

    assert Notification.objects.filter(user=user).count() == 1
    assert not Delivery.objects.exists()


def test_a_mandatory_topic_ignores_the_opt_out_and_skips_the_digest(user):
    Preference.objects.create(user=user, topic=MONEY.code, channel="email", enabled=False)

    notify([user], MONEY.code, {"amount": Decimal("12.30")}, now=NOW)

    delivery = Delivery.objects.get()
    assert not delivery.digest
    assert delivery.next_attempt_at == NOW


def test_saving_preferences_cannot_turn_a_mandatory_topic_off(user):
    save_preferences(
        user=user,
        enabled={(MONEY.code, "email"): False, (PLAIN.code, "email"): False},
        quiet_from=None,
        quiet_to=None,
        language="it",
        now=NOW,
    )

    assert not Preference.objects.filter(topic=MONEY.code).exists()
    assert Preference.objects.get(topic=PLAIN.code).enabled is False


def test_quiet_hours_hold_a_mandatory_but_not_urgent_notice_until_they_end(user):
    RecipientSettings.objects.create(user=user, quiet_from=dt.time(22, 0), quiet_to=dt.time(7, 0))
    # 23:30 in Rome on Saturday 5 December.
    late = dt.datetime(2026, 12, 5, 22, 30, tzinfo=dt.UTC)

    notify([user], MONEY.code, {"amount": Decimal("1")}, now=late)

    # Held until 07:00 in Rome on Sunday, 06:00 UTC.
    assert Delivery.objects.get().next_attempt_at == dt.datetime(2026, 12, 6, 6, 0, tzinfo=dt.UTC)


def test_quiet_hours_do_not_hold_an_urgent_notice(user):
    RecipientSettings.objects.create(user=user, quiet_from=dt.time(22, 0), quiet_to=dt.time(7, 0))
    late = dt.datetime(2026, 12, 5, 22, 30, tzinfo=dt.UTC)

    notify([user], topics.SECURITY_NOTICE.code, {"event": "New login"}, now=late)

    assert Delivery.objects.get().next_attempt_at == late


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Just after midnight in Rome, inside 22:00-07:00: held to 07:00 the same day.
        (_utc(2026, 12, 5, 23, 0), _utc(2026, 12, 6, 6, 0)),
        # 07:00 itself is no longer quiet (the period is half-open).
        (_utc(2026, 12, 6, 6, 0), _utc(2026, 12, 6, 6, 0)),
        # Last Sunday of March: quiet hours end at 07:00 CEST (05:00 UTC).
        (_utc(2026, 3, 29, 0, 30), _utc(2026, 3, 29, 5, 0)),
        # Last Sunday of October: 07:00 CET is 06:00 UTC.
        (_utc(2026, 10, 25, 1, 30), _utc(2026, 10, 25, 6, 0)),
    ],
)
def test_quiet_hours_end_at_the_local_hour_across_midnight_and_dst(moment, expected):
    prefs = RecipientSettings(quiet_from=dt.time(22, 0), quiet_to=dt.time(7, 0))

    assert after_quiet_hours(moment, prefs) == expected


def test_the_digest_hour_before_eight_is_the_same_day_and_moves_past_quiet_hours():
    early = dt.datetime(2026, 12, 6, 5, 0, tzinfo=dt.UTC)  # 06:00 in Rome
    sleepy = RecipientSettings(quiet_from=dt.time(23, 0), quiet_to=dt.time(9, 30))

    assert next_digest_at(early, RecipientSettings()) == dt.datetime(
        2026, 12, 6, 7, 0, tzinfo=dt.UTC
    )
    assert next_digest_at(early, sleepy) == dt.datetime(2026, 12, 6, 8, 30, tzinfo=dt.UTC)


def test_the_same_condition_is_told_once_per_recipient(user):
    other = make_user()

    notify([user], PLAIN.code, CONTEXT, now=NOW, dedupe_key="device-silent:7:x")
    notify([user, other], PLAIN.code, CONTEXT, now=NOW, dedupe_key="device-silent:7:x")

    assert Notification.objects.filter(user=user).count() == 1
    assert Notification.objects.filter(user=other).count() == 1


def test_inactive_and_repeated_recipients_are_skipped(user):
    gone = make_user(is_active=False)

    notify([user, user, gone, None], PLAIN.code, CONTEXT, now=NOW)

    assert list(Notification.objects.values_list("user_id", flat=True)) == [user.pk]


def test_a_link_to_another_site_is_refused_and_nothing_is_stored(user):
    with pytest.raises(BadLink):
        notify([user], PLAIN.code, CONTEXT, link="https://evil.example/", now=NOW)
    with pytest.raises(BadLink):
        notify([user], PLAIN.code, CONTEXT, link="//evil.example/", now=NOW)

    assert not Notification.objects.exists()


def test_an_unknown_topic_is_refused(user):
    with pytest.raises(topics.UnknownTopic):
        notify([user], "tests.nobody", {}, now=NOW)
