"""Rules 1, 2, 3 and 5: silent devices, missing hours, quarantined counters, high use."""

from __future__ import annotations

import datetime as dt

import pytest

from cer.alerts.models import Alert, AlertRule, AlertSettings, AlertState
from cer.alerts.services import evaluate
from cer.metering.models import CounterSample, CounterState, HourlyReading
from tests.alerts.conftest import YESTERDAY, add_day, make_point
from tests.metering.conftest import make_device

pytestmark = pytest.mark.django_db


def _live(rule):
    return Alert.objects.filter(rule=rule, state__in=["OPEN", "ACK"])


def _sample(device, at, *, state=CounterState.ACCEPTED, value=1000):
    return CounterSample.objects.create(
        device=device,
        channel="WDR",
        measured_at=at,
        value_wh=value,
        received_at=at,
        state=state,
    )


def test_a_device_silent_longer_than_the_communitys_hours_opens_an_alert(community, now):
    AlertSettings.objects.create(community=community, silence_hours=6)
    device = make_device(make_point(community))
    _sample(device, now - dt.timedelta(hours=7))

    evaluate(now)

    alert = _live(AlertRule.DEVICE_SILENT).get()
    assert alert.object_id == device.pk
    assert alert.link.endswith(f"/metering/devices/{device.pk}/")
    assert "6 hours" in _explanation(alert)


def test_a_silent_device_that_speaks_again_closes_its_alert(community, now):
    device = make_device(make_point(community))
    _sample(device, now - dt.timedelta(hours=30))
    evaluate(now)
    assert _live(AlertRule.DEVICE_SILENT).count() == 1

    _sample(device, now - dt.timedelta(minutes=5), value=1200)
    evaluate(now + dt.timedelta(minutes=15))

    assert not _live(AlertRule.DEVICE_SILENT).exists()
    assert Alert.objects.get(rule=AlertRule.DEVICE_SILENT).state == AlertState.CLOSED


def test_a_device_heard_within_the_hours_rings_nothing(community, now):
    device = make_device(make_point(community))
    _sample(device, now - dt.timedelta(hours=23))

    evaluate(now)

    assert not _live(AlertRule.DEVICE_SILENT).exists()


def test_a_25_hour_day_with_24_readings_misses_one_hour(community, now):
    point = make_point(community)
    for back in range(1, 8):
        add_day(point, YESTERDAY - dt.timedelta(days=back - 1))
    # The last Sunday of October has 25 hours: a point that sent 24 misses one.
    HourlyReading.objects.filter(
        connection_point=point, hour_start=dt.datetime(2025, 10, 26, 22, 0, tzinfo=dt.UTC)
    ).delete()

    evaluate(now)

    alert = _live(AlertRule.READINGS_MISSING).get()
    assert alert.figures["days"] == [["2025-10-26", 1, 25]]
    assert "26 October 2025: 1 of 25 hours" in _explanation(alert)


def test_complete_days_of_23_24_and_25_hours_ring_nothing_and_a_filled_gap_closes(community, now):
    point = make_point(community)
    for back in range(1, 8):
        add_day(point, YESTERDAY - dt.timedelta(days=back - 1), skip=2 if back == 3 else 0)
    evaluate(now)
    assert _live(AlertRule.READINGS_MISSING).count() == 1

    HourlyReading.objects.filter(connection_point=point).delete()
    for back in range(1, 8):
        add_day(point, YESTERDAY - dt.timedelta(days=back - 1))
    evaluate(now + dt.timedelta(minutes=15))

    assert not _live(AlertRule.READINGS_MISSING).exists()


def test_quarantined_counter_values_open_an_alert_until_they_are_reviewed(community, now):
    device = make_device(make_point(community))
    _sample(device, now - dt.timedelta(hours=1), value=1000)
    held = _sample(
        device, now - dt.timedelta(minutes=30), value=400, state=CounterState.QUARANTINED
    )
    evaluate(now)

    alert = _live(AlertRule.COUNTER_QUARANTINE).get()
    assert alert.figures["samples"] == 1
    assert alert.link.endswith(f"/metering/devices/{device.pk}/")

    CounterSample.objects.filter(pk=held.pk).update(state=CounterState.DISCARDED)
    evaluate(now + dt.timedelta(minutes=15))
    assert not _live(AlertRule.COUNTER_QUARANTINE).exists()


def _usual_weeks(point, *, withdrawn_wh):
    for weeks in range(1, 5):
        add_day(point, YESTERDAY - dt.timedelta(weeks=weeks), withdrawn_wh=withdrawn_wh)


def test_a_day_above_twice_the_usual_weekday_and_the_floor_rings(community, now):
    point = make_point(community)
    _usual_weeks(point, withdrawn_wh=8_400)
    add_day(point, YESTERDAY, withdrawn_wh=25_000)

    evaluate(now)

    alert = _live(AlertRule.HIGH_CONSUMPTION).get()
    assert alert.figures["usual_wh"] == 8_400
    assert alert.figures["withdrawn_wh"] == 25_000
    assert "withdrew 25.000\u00a0kWh" in _explanation(alert)


def test_a_tiny_point_below_the_floor_does_not_ring_and_a_usual_day_closes(community, now):
    tiny = make_point(community)
    _usual_weeks(tiny, withdrawn_wh=1_000)
    add_day(tiny, YESTERDAY, withdrawn_wh=4_000)  # four times usual, under 5 kWh
    big = make_point(community)
    _usual_weeks(big, withdrawn_wh=8_000)
    add_day(big, YESTERDAY, withdrawn_wh=25_000)
    evaluate(now)
    assert list(_live(AlertRule.HIGH_CONSUMPTION).values_list("object_id", flat=True)) == [big.pk]

    # The next day is usual again: the alert about the day before closes.
    add_day(big, YESTERDAY + dt.timedelta(days=1) - dt.timedelta(weeks=4), withdrawn_wh=8_000)
    for weeks in range(1, 4):
        add_day(
            big, YESTERDAY + dt.timedelta(days=1) - dt.timedelta(weeks=weeks), withdrawn_wh=8_000
        )
    add_day(big, YESTERDAY + dt.timedelta(days=1), withdrawn_wh=9_000)
    evaluate(now + dt.timedelta(days=1))

    assert not _live(AlertRule.HIGH_CONSUMPTION).exists()


def _explanation(alert):
    from django.utils import translation

    from cer.alerts.explain import explain

    with translation.override("en"):
        return explain(alert.rule, alert.figures)
