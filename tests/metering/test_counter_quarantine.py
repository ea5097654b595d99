"""Counters you can trust: a backlog keeps its energy, glitches wait in quarantine.

The cases of the metering issue, replayed through the recording path; the referente's
decisions through the device page (Django test client).
"""

from __future__ import annotations

import datetime as dt
import json

from django.db.models import Sum
from django.urls import reverse

from cer.audit.models import AuditEntry
from cer.metering.models import (
    CounterSample,
    CounterState,
    DeviceKind,
    HourlyReading,
    ReadingSource,
)
from cer.metering.recording import IncomingMessage, ingest_messages
from cer.metering.retention import delete_expired_quarantine
from tests.metering.conftest import make_device

UTC = dt.UTC
T0 = dt.datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
ARRIVAL = dt.datetime(2025, 11, 1, tzinfo=UTC)


def _counter(device, at: dt.datetime, withdrawn: int) -> IncomingMessage:
    payload = json.dumps({"at": at.isoformat(), "withdrawn_total_wh": withdrawn}).encode()
    return IncomingMessage(f"{device.topic_prefix}/readings", payload, ARRIVAL)


def _status(device, total_wh: float, received_at: dt.datetime) -> IncomingMessage:
    payload = json.dumps({"id": 0, "total_act": total_wh, "total_act_ret": 0}).encode()
    return IncomingMessage(f"{device.topic_prefix}/status/emdata:0", payload, received_at)


def _booked(point) -> int:
    rows = HourlyReading.objects.filter(connection_point=point, source=ReadingSource.DEVICE)
    return rows.aggregate(total=Sum("withdrawn_wh"))["total"] or 0


def _hourly(point) -> dict[dt.datetime, int]:
    rows = HourlyReading.objects.filter(connection_point=point, source=ReadingSource.DEVICE)
    return {row.hour_start: row.withdrawn_wh for row in rows if row.withdrawn_wh}


def test_a_backlog_of_status_messages_after_an_outage_books_all_its_energy(point):
    # A Shelly Pro 3EM publishes status/emdata:0 every minute; the worker is away for
    # 8 minutes and the broker delivers the queued messages microseconds apart.
    device = make_device(point, kind=DeviceKind.SHELLY_STATUS)
    ingest_messages(messages=[_status(device, 10_000, T0)])
    restart = T0 + dt.timedelta(minutes=8, seconds=30)
    backlog = [
        _status(
            device,
            10_000 + 10 * minute + (5 if minute == 8 else 0),
            restart + dt.timedelta(microseconds=minute),
        )
        for minute in range(1, 9)
    ]

    outcome = ingest_messages(messages=backlog)

    assert _booked(point) == 85
    assert outcome.quarantined == 0
    assert not CounterSample.objects.filter(state=CounterState.QUARANTINED).exists()


def test_a_backlog_split_over_two_batches_books_all_its_energy(point):
    device = make_device(point, kind=DeviceKind.SHELLY_STATUS)
    ingest_messages(messages=[_status(device, 10_000, T0)])
    restart = T0 + dt.timedelta(minutes=8, seconds=30)
    backlog = [
        _status(device, 10_000 + 10 * minute, restart + dt.timedelta(microseconds=minute))
        for minute in range(1, 9)
    ]

    ingest_messages(messages=backlog[:3])
    ingest_messages(messages=backlog[3:])

    assert _booked(point) == 80


def test_a_one_gwh_spike_is_quarantined_and_the_chain_resumes_from_the_last_good_value(point):
    # Withdrawal at this point is bounded by 4.5 kW: 10 h of 450 W is 4,500 Wh.
    device = make_device(point)
    messages = [
        _counter(device, T0, 200_000),
        _counter(device, T0 + dt.timedelta(minutes=1), 1_000_000_000),
        _counter(device, T0 + dt.timedelta(hours=10), 204_500),
        _counter(device, T0 + dt.timedelta(hours=11), 205_000),
    ]

    outcome = ingest_messages(messages=messages)

    assert _booked(point) == 5_000
    assert outcome.quarantined == 1
    (glitch,) = CounterSample.objects.filter(state=CounterState.QUARANTINED)
    assert glitch.value_wh == 1_000_000_000
    assert glitch.reason.startswith("the counter jumped by 999800000 Wh in 60 s")


def test_a_drop_that_is_not_plausibly_small_is_a_glitch_not_a_reset(point):
    device = make_device(point)
    messages = [
        _counter(device, T0, 900_000),
        _counter(device, T0 + dt.timedelta(minutes=10), 500_000),
        _counter(device, T0 + dt.timedelta(minutes=20), 900_300),
    ]

    ingest_messages(messages=messages)

    assert _booked(point) == 300
    (glitch,) = CounterSample.objects.filter(state=CounterState.QUARANTINED)
    assert glitch.reason.startswith("the counter went back from 900000 Wh to 500000 Wh")


def test_a_tasmota_counter_reset_declared_by_the_device_counts_from_zero(point):
    device = make_device(point, kind=DeviceKind.TASMOTA)

    def sensor(at: str, total_kwh: float, started: str) -> IncomingMessage:
        energy = {"TotalStartTime": started, "Total": total_kwh}
        payload = json.dumps({"Time": at, "ENERGY": energy}).encode()
        return IncomingMessage(f"{device.topic_prefix}/tele/SENSOR", payload, ARRIVAL)

    ingest_messages(
        messages=[
            sensor("2025-06-01T11:00:00+02:00", 12.0, "2024-01-01T00:00:00"),
            # EnergyTotal 0 three hours later: 1.2 kWh since, below what 4.5 kW allow.
            sensor("2025-06-01T14:00:00+02:00", 1.2, "2025-06-01T12:00:00"),
        ]
    )

    assert _booked(point) == 1_200


def _quarantine_one(point, device) -> CounterSample:
    ingest_messages(
        messages=[
            _counter(device, T0, 200_000),
            _counter(device, T0 + dt.timedelta(minutes=10), 209_000),
        ]
    )
    return CounterSample.objects.get(state=CounterState.QUARANTINED)


def test_the_device_page_lists_a_quarantined_value_with_its_reason(client, point, referente):
    device = make_device(point)
    _quarantine_one(point, device)
    client.force_login(referente)

    response = client.get(reverse("metering:device_detail", args=[device.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "209000" in page
    assert "il contatore è salito di 9000 Wh in 600 s" in page  # the page is Italian


def test_releasing_a_value_asks_for_confirmation_then_books_it_and_audits(client, point, referente):
    device = make_device(point)
    sample = _quarantine_one(point, device)
    client.force_login(referente)
    url = reverse("metering:counter_action", args=[device.pk])

    first = client.post(url, {"sample": sample.pk, "action": "release"})
    assert first.status_code == 200
    assert _booked(point) == 0

    client.post(url, {"sample": sample.pk, "action": "release", "confirmed": "yes"})

    sample.refresh_from_db()
    assert sample.state == CounterState.RELEASED
    assert sample.resolved_by == referente
    assert _booked(point) == 9_000
    entry = AuditEntry.objects.get(code="metering.counter.released")
    assert entry.changes["booked_wh"] == 9_000


def test_discarding_a_value_books_nothing_and_audits(client, point, referente):
    device = make_device(point)
    sample = _quarantine_one(point, device)
    client.force_login(referente)
    url = reverse("metering:counter_action", args=[device.pk])

    client.post(url, {"sample": sample.pk, "action": "discard", "confirmed": "yes"})

    sample.refresh_from_db()
    assert sample.state == CounterState.DISCARDED
    assert _booked(point) == 0
    assert AuditEntry.objects.filter(code="metering.counter.discarded").count() == 1


def test_a_replacement_meter_restarts_the_chain_without_booking_its_start_reading(
    client, point, referente
):
    device = make_device(point)
    ingest_messages(
        messages=[
            _counter(device, T0, 5_000_000),
            _counter(device, T0 + dt.timedelta(hours=1), 5_001_000),
        ]
    )
    client.force_login(referente)
    # 13:30 in Rome is 11:30 UTC.
    response = client.post(
        reverse("metering:meter_replacement", args=[device.pk]),
        {"replaced_at": "2025-06-01T13:30", "withdrawn_start_wh": 2_000, "confirmed": "yes"},
    )
    assert response.status_code == 302

    ingest_messages(
        messages=[
            _counter(device, T0 + dt.timedelta(hours=3), 2_400),
            _counter(device, T0 + dt.timedelta(hours=4), 2_900),
        ]
    )

    assert _booked(point) == 1_000 + 400 + 500
    assert not CounterSample.objects.filter(state=CounterState.QUARANTINED).exists()
    entry = AuditEntry.objects.get(code="metering.meter.replaced")
    assert entry.changes["withdrawn_start_wh"] == 2_000


def test_a_replacement_recorded_late_takes_back_the_start_reading_booked_as_a_reset(
    point, referente, client
):
    # Three hours without values: 2,400 Wh is plausibly small, so it was taken for a reset.
    device = make_device(point)
    ingest_messages(
        messages=[
            _counter(device, T0, 5_000_000),
            _counter(device, T0 + dt.timedelta(hours=3), 2_400),
            _counter(device, T0 + dt.timedelta(hours=4), 2_900),
        ]
    )
    assert _booked(point) == 2_900
    client.force_login(referente)

    client.post(
        reverse("metering:meter_replacement", args=[device.pk]),
        {"replaced_at": "2025-06-01T13:30", "withdrawn_start_wh": 2_000, "confirmed": "yes"},
    )

    assert _booked(point) == 900
    assert _hourly(point) == {
        dt.datetime(2025, 6, 1, 11, tzinfo=UTC): 400,
        dt.datetime(2025, 6, 1, 12, tzinfo=UTC): 500,
    }


def test_a_replacement_recorded_late_takes_its_values_out_of_quarantine(point, referente, client):
    # Ten minutes after the old meter's last value: 2,400 Wh cannot be a reset.
    device = make_device(point)
    ingest_messages(
        messages=[
            _counter(device, T0 - dt.timedelta(minutes=10), 4_999_900),
            _counter(device, T0, 5_000_000),
            _counter(device, T0 + dt.timedelta(minutes=10), 2_400),
            _counter(device, T0 + dt.timedelta(minutes=40), 2_900),
        ]
    )
    # 2,900 Wh forty minutes later is plausibly small: taken for a reset, booked whole.
    assert CounterSample.objects.filter(state=CounterState.QUARANTINED).count() == 1
    assert _booked(point) == 100 + 2_900
    client.force_login(referente)

    client.post(
        reverse("metering:meter_replacement", args=[device.pk]),
        {"replaced_at": "2025-06-01T11:05", "withdrawn_start_wh": 2_000, "confirmed": "yes"},
    )

    assert _booked(point) == 100 + 400 + 500
    assert not CounterSample.objects.filter(state=CounterState.QUARANTINED).exists()


def test_a_replacement_without_any_reading_names_the_field(client, point, referente):
    device = make_device(point)
    client.force_login(referente)

    response = client.post(
        reverse("metering:meter_replacement", args=[device.pk]),
        {"replaced_at": "2025-06-01T13:30", "confirmed": "yes"},
    )

    assert response.status_code == 400
    assert "Indica almeno una lettura iniziale." in response.content.decode()


def test_quarantined_values_expire_with_the_retention_period(point, settings):
    settings.COUNTER_QUARANTINE_RETENTION_DAYS = 60
    device = make_device(point)
    _quarantine_one(point, device)

    assert delete_expired_quarantine(now=ARRIVAL + dt.timedelta(days=59)) == 0
    assert delete_expired_quarantine(now=ARRIVAL + dt.timedelta(days=61)) == 1
    assert CounterSample.objects.count() == 1
