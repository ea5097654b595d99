"""Time bounds of readings, the exact hourly split, and every energy payload used or refused."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cer.metering import ingest, recording
from cer.metering.models import (
    CounterSample,
    DeviceKind,
    HourlyReading,
    RejectedMessage,
)
from cer.metering.recording import (
    IncomingMessage,
    ReadingsRejected,
    ingest_http_readings,
    ingest_messages,
)
from tests.metering.conftest import make_device

UTC = dt.UTC
FIXTURES = Path(__file__).parent.parent / "fixtures" / "mqtt"
REGISTERED_AT = dt.datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
ARRIVAL = dt.datetime(2025, 6, 1, 10, 0, 5, tzinfo=UTC)


def _fixture_payload(name: str) -> bytes:
    return json.dumps(json.loads((FIXTURES / name).read_text())["payload"]).encode()


def _tasmota(time: str, *, total: float = 1234.567) -> bytes:
    return json.dumps({"Time": time, "ENERGY": {"Total": total, "Power": 180}}).encode()


def _parse(kind, suffix, payload, *, received_at=ARRIVAL, **options) -> ingest.ParsedMessage:
    return ingest.parse_payload(
        kind=kind, suffix=suffix, payload=payload, received_at=received_at, **options
    )


def _quarter_hours(first: dt.datetime, count: int) -> bytes:
    step = dt.timedelta(minutes=15)
    readings = [
        {
            "start": (first + i * step).isoformat(),
            "end": (first + (i + 1) * step).isoformat(),
            "withdrawn_wh": 100,
        }
        for i in range(count)
    ]
    return json.dumps({"v": 1, "readings": readings}).encode()


# --- a clock that was never set ----------------------------------------------------------


def test_a_1970_time_is_rejected_as_before_the_devices_registration():
    with pytest.raises(ingest.Rejection) as caught:
        _parse(
            ingest.TASMOTA,
            "tele/SENSOR",
            _tasmota("1970-01-01T00:05:00+00:00"),
            registered_at=REGISTERED_AT,
        )

    assert caught.value.field == "Time"
    assert caught.value.reason == (
        "1970-01-01T00:05:00Z is before the device was registered (2025-03-01); "
        "set the device's clock (NTP)"
    )


def test_a_shelly_notification_stamped_near_the_epoch_is_rejected_naming_params_ts():
    payload = json.dumps(
        {
            "method": "NotifyStatus",
            "params": {"ts": 312.5, "emdata:0": {"id": 0, "total_act": 10.0}},
        }
    ).encode()

    with pytest.raises(ingest.Rejection) as caught:
        _parse(ingest.SHELLY_EM, "events/rpc", payload, registered_at=REGISTERED_AT)

    assert caught.value.field == "params.ts"
    assert "1970-01-01T00:05:12.500000Z is before the device was registered" in (
        caught.value.reason
    )


@pytest.mark.parametrize(
    "time", ["0001-01-01T00:00:00+00:00", "0001-01-01T00:30:00+01:00", "1999-12-31T23:59:59Z"]
)
def test_absurdly_old_times_are_rejected_even_without_a_registration(time):
    with pytest.raises(ingest.Rejection) as caught:
        _parse(ingest.TASMOTA, "tele/SENSOR", _tasmota(time))

    assert caught.value.field == "Time"


def test_the_whole_rome_day_of_registration_is_accepted_even_on_the_march_dst_day():
    # Registered at noon of the last Sunday of March; that day began at 23:00 UTC.
    registered_at = dt.datetime(2025, 3, 30, 10, tzinfo=UTC)
    arrival = dt.datetime(2025, 3, 30, 12, tzinfo=UTC)

    midnight = _parse(
        ingest.TASMOTA,
        "tele/SENSOR",
        _tasmota("2025-03-30T00:00:00+01:00"),
        received_at=arrival,
        registered_at=registered_at,
    )
    with pytest.raises(ingest.Rejection) as caught:
        _parse(
            ingest.TASMOTA,
            "tele/SENSOR",
            _tasmota("2025-03-29T23:59:59+01:00"),
            received_at=arrival,
            registered_at=registered_at,
        )

    assert midnight.counters[0].measured_at == dt.datetime(2025, 3, 29, 23, tzinfo=UTC)
    assert "registered (2025-03-30)" in caught.value.reason


def test_the_age_bound_counts_back_from_the_arrival():
    bounds = ingest.TimeBounds(max_age=dt.timedelta(days=400))
    recent = ARRIVAL - dt.timedelta(days=399)
    old = ARRIVAL - dt.timedelta(days=401)

    accepted = _parse(ingest.TASMOTA, "tele/SENSOR", _tasmota(recent.isoformat()), bounds=bounds)
    with pytest.raises(ingest.Rejection) as caught:
        _parse(ingest.TASMOTA, "tele/SENSOR", _tasmota(old.isoformat()), bounds=bounds)

    assert accepted.counters[0].measured_at == recent
    assert caught.value.field == "Time"
    assert "more than 400 days before its arrival (2025-06-01T10:00:05Z)" in caught.value.reason


def test_the_age_bound_and_the_hours_bound_come_from_the_settings(settings):
    settings.METERING_MAX_SAMPLE_AGE_DAYS = 30
    settings.METERING_MAX_HOURS_PER_MESSAGE = 6

    assert recording.time_bounds() == ingest.TimeBounds(dt.timedelta(days=30), 6)
    assert recording.time_bounds(max_age=False) == ingest.TimeBounds(None, 6)


# --- how many hours one message may touch ------------------------------------------------


def test_a_message_may_reach_over_48_hours_but_not_49():
    first = dt.datetime(2025, 5, 29, 10, tzinfo=UTC)

    accepted = _parse(ingest.OWN_JSON, "readings", _quarter_hours(first, 48 * 4))
    with pytest.raises(ingest.Rejection) as caught:
        _parse(ingest.OWN_JSON, "readings", _quarter_hours(first, 48 * 4 + 1))

    assert len(accepted.intervals) == 192
    assert caught.value.field == "readings"
    assert "reach over 49 hours" in caught.value.reason
    assert "at most 48 hours" in caught.value.reason


def test_a_year_one_reading_next_to_a_recent_one_is_refused_by_its_span():
    # Without an age bound (HTTP uploads), the span alone keeps the splitter small.
    document = {
        "readings": [
            {"start": "0001-01-01T00:00:00Z", "end": "0001-01-01T00:15:00Z", "withdrawn_wh": 1},
            {"start": "2025-06-01T09:00:00Z", "end": "2025-06-01T09:15:00Z", "withdrawn_wh": 1},
        ]
    }

    with pytest.raises(ingest.Rejection) as caught:
        ingest.parse_own_readings(
            document, received_at=ARRIVAL, bounds=ingest.TimeBounds(max_age=None)
        )

    assert caught.value.field == "readings"
    assert "reach over 17745658 hours, from 0001-01-01T00:00:00Z" in caught.value.reason


# --- the hourly split ---------------------------------------------------------------------


def test_a_sample_a_fraction_of_a_second_after_the_hour_moves_no_watt_hour():
    # Quarter-hour counter samples, the one at 11:00 taken 0.3 s late: 50 Wh a quarter.
    hour = dt.datetime(2025, 10, 26, 10, tzinfo=UTC)
    samples = [
        hour,
        hour + dt.timedelta(minutes=15),
        hour + dt.timedelta(minutes=30),
        hour + dt.timedelta(minutes=45),
        hour + dt.timedelta(hours=1, microseconds=300_000),
        hour + dt.timedelta(hours=1, minutes=15),
        hour + dt.timedelta(hours=1, minutes=30),
        hour + dt.timedelta(hours=1, minutes=45),
        hour + dt.timedelta(hours=2),
    ]
    totals: dict[dt.datetime, int] = {}

    for start_at, end_at in itertools.pairwise(samples):
        for bucket, part in ingest.split_over_hours(start_at, end_at, 50):
            totals[bucket] = totals.get(bucket, 0) + part

    assert totals == {hour: 200, hour + dt.timedelta(hours=1): 200}


def test_a_late_sample_with_much_energy_still_gets_its_fair_share_of_the_second():
    # 7,200 Wh in 3600.5 s: the last half second holds almost exactly 1 Wh.
    start_at = dt.datetime(2025, 6, 1, 9, tzinfo=UTC)

    parts = ingest.split_over_hours(
        start_at, start_at + dt.timedelta(hours=1, milliseconds=500), 7200
    )

    assert parts == [(start_at, 7199), (start_at + dt.timedelta(hours=1), 1)]


@given(
    start_us=st.integers(min_value=0, max_value=10**11),
    length_us=st.integers(min_value=1, max_value=86_400 * 10**6),
    energy=st.integers(min_value=0, max_value=10**9),
)
def test_each_part_is_within_one_wh_of_its_exact_share_and_the_parts_add_up(
    start_us, length_us, energy
):
    start_at = dt.datetime(2025, 3, 29, tzinfo=UTC) + dt.timedelta(microseconds=start_us)
    end_at = start_at + dt.timedelta(microseconds=length_us)

    parts = ingest.split_over_hours(start_at, end_at, energy)

    assert sum(part for _, part in parts) == energy
    for bucket, part in parts:
        overlap_us = (
            min(bucket + dt.timedelta(hours=1), end_at) - max(bucket, start_at)
        ) // dt.timedelta(microseconds=1)
        # |part - energy × overlap / length| < 1, in integers.
        assert abs(part * length_us - energy * overlap_us) < length_us


# --- every payload that carries energy ---------------------------------------------------


def test_a_shelly_plus_switch_status_gives_its_aenergy_and_ret_aenergy_in_wh():
    parsed = _parse(
        ingest.SHELLY_STATUS,
        "status/switch:0",
        _fixture_payload("shelly_plus1pm_switch_status.json"),
    )

    assert parsed.counters == (ingest.CounterReading(ARRIVAL, 812, 15234),)
    assert parsed.stamped_on_arrival


def test_a_switch_of_another_channel_is_ignored_and_the_meter_channel_is_read():
    payload = _fixture_payload("shelly_plus1pm_switch_status.json")

    other = _parse(ingest.SHELLY_STATUS, "status/switch:1", payload)
    mine = _parse(ingest.SHELLY_STATUS, "status/switch:1", payload, meter_channel=1)

    assert other.ignored and not other.counters
    assert mine.counters[0].withdrawn_total_wh == 15234


def test_a_switch_notification_is_stamped_with_the_devices_time():
    payload = json.dumps(
        {
            "src": "shellyplus1pm-a8032ab12345",
            "method": "NotifyStatus",
            "params": {
                "ts": 1748772000.5,
                "switch:0": {"id": 0, "aenergy": {"by_minute": [0, 0, 0], "total": 99.999}},
            },
        }
    ).encode()

    parsed = _parse(ingest.SHELLY_EM, "events/rpc", payload)

    assert parsed.counters == (
        ingest.CounterReading(dt.datetime(2025, 6, 1, 10, 0, 0, 500_000, tzinfo=UTC), None, 99),
    )


def test_a_full_status_without_an_energy_component_is_rejected_with_its_components():
    payload = json.dumps(
        {
            "method": "NotifyFullStatus",
            "params": {"ts": 1748772000.0, "sys": {"uptime": 5}, "wifi": {"rssi": -60}},
        }
    ).encode()

    with pytest.raises(ingest.Rejection) as caught:
        _parse(ingest.SHELLY_EM, "events/rpc", payload)

    assert caught.value.field == "params"
    assert caught.value.reason == "no energy counter found; keys seen: ts, sys, wifi"


def test_tasmota_sums_the_phases_of_total_and_total_return():
    parsed = _parse(
        ingest.TASMOTA,
        "tele/SENSOR",
        _fixture_payload("tasmota_energy_three_phases.json"),
        received_at=dt.datetime(2025, 10, 26, 1, 15, 2, tzinfo=UTC),
    )

    assert parsed.counters[0].withdrawn_total_wh == 412_118 + 398_904 + 405_300
    assert parsed.counters[0].injected_total_wh == 101_000 + 99_870 + 100_400


def test_tasmota_with_two_meters_carrying_energy_is_rejected():
    payload = json.dumps(
        {
            "Time": "2025-06-01T12:00:00+02:00",
            "ENERGY": {"Total": 10.0},
            "SML": {"Total_in": 20.0},
        }
    ).encode()

    with pytest.raises(ingest.Rejection) as caught:
        _parse(ingest.TASMOTA, "tele/SENSOR", payload)

    assert caught.value.field == "SML"
    assert "(ENERGY, SML)" in caught.value.reason


def test_an_empty_phase_list_is_rejected():
    payload = b'{"Time": "2025-06-01T12:00:00+02:00", "ENERGY": {"Total": []}}'

    with pytest.raises(ingest.Rejection) as caught:
        _parse(ingest.TASMOTA, "tele/SENSOR", payload)

    assert caught.value.field == "ENERGY.Total"


# --- through the recording service -------------------------------------------------------


def _message(device, suffix: str, payload: bytes, received_at=ARRIVAL) -> IncomingMessage:
    return IncomingMessage(f"{device.topic_prefix}/{suffix}", payload, received_at)


def test_a_1970_message_is_stored_as_rejected_and_creates_no_rows(point):
    device = make_device(point, kind=DeviceKind.TASMOTA, created_at=REGISTERED_AT)
    good = _message(device, "tele/SENSOR", _tasmota("2025-06-01T11:45:00+02:00"))
    clockless = _message(
        device, "tele/SENSOR", _fixture_payload("tasmota_clock_not_set.json"), ARRIVAL
    )

    ingest_messages(messages=[good])
    outcome = ingest_messages(messages=[clockless])

    stored = RejectedMessage.objects.get(device=device)
    assert outcome.rejected == 1
    assert stored.field == "Time"
    assert stored.reason == (
        "1970-01-01T00:05:00Z is before the device was registered (2025-03-01); "
        "set the device's clock (NTP)"
    )
    assert stored.payload == clockless.payload
    assert not HourlyReading.objects.filter(connection_point=point).exists()
    assert list(CounterSample.objects.values_list("measured_at", flat=True)) == [
        dt.datetime(2025, 6, 1, 9, 45, tzinfo=UTC)
    ]


def test_switch_aenergy_and_ret_aenergy_are_booked_in_wh(point):
    device = make_device(point, kind=DeviceKind.SHELLY_STATUS, created_at=REGISTERED_AT)
    first = json.dumps(
        {"id": 0, "aenergy": {"total": 1000.4}, "ret_aenergy": {"total": 500.0}}
    ).encode()
    later = json.dumps(
        {"id": 0, "aenergy": {"total": 1250.9}, "ret_aenergy": {"total": 812.7}}
    ).encode()
    at = dt.datetime(2025, 6, 1, 10, 0, 5, tzinfo=UTC)

    outcome = ingest_messages(
        messages=[
            _message(device, "status/switch:0", first, at),
            _message(device, "status/switch:0", later, at + dt.timedelta(minutes=15)),
        ]
    )

    row = HourlyReading.objects.get(connection_point=point)
    assert outcome.rejected == 0
    assert (row.hour_start, row.injected_wh, row.withdrawn_wh) == (
        dt.datetime(2025, 6, 1, 10, tzinfo=UTC),
        812 - 500,
        1250 - 1000,
    )


def test_a_status_without_energy_is_stored_as_rejected_with_the_keys_seen(point):
    device = make_device(point, kind=DeviceKind.SHELLY_STATUS, created_at=REGISTERED_AT)
    payload = b'{"id": 0, "apower": 0.0, "voltage": 231.2, "current": 0.0}'

    ingest_messages(messages=[_message(device, "status/pm1:0", payload)])

    stored = RejectedMessage.objects.get(device=device)
    assert (stored.field, stored.reason) == (
        "aenergy.total",
        "no energy counter found; keys seen: id, apower, voltage, current",
    )


def test_an_upload_reaching_over_too_many_hours_is_refused_before_any_split(
    point, referente, monkeypatch
):
    def split_must_not_run(*args, **kwargs):
        raise AssertionError("the hourly split ran")

    monkeypatch.setattr(ingest, "split_over_hours", split_must_not_run)
    body = json.dumps(
        {
            "readings": [
                {"start": "0001-01-01T00:00:00Z", "end": "0001-01-01T01:00:00Z", "injected_wh": 1},
                {"start": "2025-06-01T09:00:00Z", "end": "2025-06-01T10:00:00Z", "injected_wh": 1},
            ]
        }
    ).encode()

    with pytest.raises(ReadingsRejected) as caught:
        ingest_http_readings(
            point=point, device=None, path="/api/points/x/readings", body=body, received_at=ARRIVAL
        )

    assert caught.value.rejection.field == "readings"
    assert RejectedMessage.objects.get().field == "readings"
    assert not HourlyReading.objects.exists()
