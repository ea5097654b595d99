"""ingest.py: topics and payloads to readings, checked against captured-style fixtures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cer.metering import counter_rules, ingest
from cer.metering.models import DeviceKind

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mqtt"
NOW = dt.datetime(2025, 6, 1, 10, tzinfo=dt.UTC)
UTC = dt.UTC


def _fixture_payload(fixture: dict) -> bytes:
    if "payload_text" in fixture:
        return fixture["payload_text"].encode()
    return json.dumps(fixture["payload"]).encode()


def _parse_fixture(name: str) -> ingest.ParsedMessage:
    fixture = json.loads((FIXTURES / name).read_text())
    return ingest.parse_payload(
        kind=fixture["kind"],
        suffix=fixture["suffix"],
        payload=_fixture_payload(fixture),
        received_at=dt.datetime.fromisoformat(fixture["received_at"]),
    )


ACCEPTED = sorted(
    path.name
    for path in FIXTURES.glob("*.json")
    if "intervals" in json.loads(path.read_text())["expected"]
)
REJECTED = sorted(
    path.name
    for path in FIXTURES.glob("*.json")
    if "rejected_field" in json.loads(path.read_text())["expected"]
)


@pytest.mark.parametrize("name", ACCEPTED)
def test_each_fixture_gives_the_documented_readings(name):
    expected = json.loads((FIXTURES / name).read_text())["expected"]

    parsed = _parse_fixture(name)

    intervals = [
        [r.start_at.isoformat(), r.end_at.isoformat(), r.injected_wh, r.withdrawn_wh]
        for r in parsed.intervals
    ]
    counters = [
        [r.measured_at.isoformat(), r.injected_total_wh, r.withdrawn_total_wh]
        for r in parsed.counters
    ]
    assert intervals == expected["intervals"]
    assert counters == expected["counters"]
    assert parsed.stamped_on_arrival == expected.get("stamped_on_arrival", False)


@pytest.mark.parametrize("name", REJECTED)
def test_each_bad_fixture_is_rejected_naming_the_field(name):
    expected = json.loads((FIXTURES / name).read_text())["expected"]

    with pytest.raises(ingest.Rejection) as caught:
        _parse_fixture(name)

    assert caught.value.field == expected["rejected_field"]
    assert expected["reason_contains"] in caught.value.reason


def test_format_codes_match_the_device_kinds():
    assert {ingest.OWN_JSON, ingest.SHELLY_EM, ingest.SHELLY_STATUS, ingest.TASMOTA} == set(
        DeviceKind.values
    )


def test_a_device_topic_splits_into_configuration_pod_device_and_suffix():
    address = ingest.parse_topic("cer/12/IT001E00000042/shelly-1/status/emdata:0")

    assert address == ingest.TopicAddress(12, "IT001E00000042", "shelly-1", "status/emdata:0")
    assert address.prefix == "cer/12/IT001E00000042/shelly-1"


@pytest.mark.parametrize(
    "topic",
    [
        "tele/tasmota_1A2B3C/SENSOR",
        "cer/x/IT001E00000042/dev/readings",
        "cer/1/IT001E0000004/dev/readings",
        "cer/1/IT001E00000042/Dev/readings",
        "cer/1/IT001E00000042/dev",
    ],
)
def test_a_topic_outside_the_scheme_is_rejected(topic):
    with pytest.raises(ingest.Rejection) as caught:
        ingest.parse_topic(topic)

    assert caught.value.field == "topic"


def _own(document: object, received_at: dt.datetime = NOW) -> ingest.ParsedMessage:
    return ingest.parse_payload(
        kind=ingest.OWN_JSON,
        suffix="readings",
        payload=json.dumps(document).encode(),
        received_at=received_at,
    )


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        (
            {"start": "2025-06-01T10:00:00", "end": "2025-06-01T10:15:00+00:00", "withdrawn_wh": 1},
            "start",
            "no UTC offset",
        ),
        (
            {"start": "2025-06-01T09:00:00Z", "end": "2025-06-01T09:15:00Z", "withdrawn_wh": -5},
            "withdrawn_wh",
            "negative",
        ),
        (
            {"start": "2025-06-01T09:00:00Z", "end": "2025-06-01T09:15:00Z", "withdrawn_wh": 1.5},
            "withdrawn_wh",
            "whole number",
        ),
        (
            {"start": "2025-06-01T09:15:00Z", "end": "2025-06-01T09:00:00Z", "withdrawn_wh": 1},
            "end",
            "after start",
        ),
        (
            {"start": "2025-06-01T09:00:00Z", "end": "2025-06-01T09:15:00Z", "withdrawn_kwh": 1},
            "withdrawn_kwh",
            "unknown field",
        ),
        (
            {"start": "yesterday", "end": "2025-06-01T10:15:00Z", "withdrawn_wh": 1},
            "start",
            "not an ISO 8601",
        ),
        (
            {"start": "2025-06-01T11:00:00Z", "end": "2025-06-01T11:15:00Z", "withdrawn_wh": 1},
            "start",
            "future",
        ),
        (
            {"readings": [{"at": "2025-06-01T09:00:00Z", "withdrawn_total_wh": 1}, {"at": 5}]},
            "readings[1].at",
            "ISO 8601 string",
        ),
        ({"readings": []}, "readings", "non-empty"),
        ([1, 2], "", "JSON object"),
    ],
)
def test_own_json_rejections_name_the_field_and_the_problem(document, field, words):
    with pytest.raises(ingest.Rejection) as caught:
        _own(document)

    assert caught.value.field == field
    assert words in caught.value.reason


def test_bytes_that_are_not_utf8_are_rejected():
    with pytest.raises(ingest.Rejection) as caught:
        ingest.parse_payload(
            kind=ingest.OWN_JSON, suffix="readings", payload=b"\xff\xfe", received_at=NOW
        )

    assert caught.value.field == "payload"
    assert "UTF-8" in caught.value.reason


def test_an_unexpected_suffix_is_rejected_but_device_chatter_is_ignored():
    with pytest.raises(ingest.Rejection):
        ingest.parse_payload(kind=ingest.TASMOTA, suffix="tele/FOO", payload=b"{}", received_at=NOW)

    state = ingest.parse_payload(
        kind=ingest.TASMOTA, suffix="tele/LWT", payload=b"Online", received_at=NOW
    )
    online = ingest.parse_payload(
        kind=ingest.SHELLY_EM, suffix="online", payload=b"true", received_at=NOW
    )

    assert state.ignored and not state.counters
    assert online.ignored and not online.counters


def test_shelly_pro_em_ignores_the_channel_that_is_not_at_the_pod():
    parsed = ingest.parse_payload(
        kind=ingest.SHELLY_STATUS,
        suffix="status/em1data:1",
        payload=b'{"id": 1, "total_act_energy": 5.0, "total_act_ret_energy": 0}',
        received_at=NOW,
        meter_channel=0,
    )

    assert parsed.ignored
    assert parsed.counters == ()


def test_shelly_notify_status_without_energy_is_ignored():
    payload = json.dumps(
        {"method": "NotifyStatus", "params": {"ts": 1748772000.0, "em:0": {"id": 0}}}
    ).encode()

    parsed = ingest.parse_payload(
        kind=ingest.SHELLY_EM, suffix="events/rpc", payload=payload, received_at=NOW
    )

    assert parsed.ignored


def test_tasmota_sensor_without_counters_is_rejected():
    payload = b'{"Time": "2025-06-01T11:59:00+02:00", "DS18B20": {"Temperature": 21.5}}'

    with pytest.raises(ingest.Rejection) as caught:
        ingest.parse_payload(
            kind=ingest.TASMOTA, suffix="tele/SENSOR", payload=payload, received_at=NOW
        )

    assert caught.value.field == "ENERGY.Total"


def test_interval_energy_beyond_the_contracted_power_is_rejected():
    parsed = _own(
        {"start": "2025-06-01T09:00:00Z", "end": "2025-06-01T09:15:00Z", "withdrawn_wh": 1300}
    )
    limits = ingest.PowerLimits(injection_w=19_800, withdrawal_w=4_500)

    with pytest.raises(ingest.Rejection) as caught:
        ingest.check_plausible(parsed, limits=limits)

    assert caught.value.field == "withdrawn_wh"
    assert "4500 W" in caught.value.reason


def test_interval_energy_within_the_tolerance_is_accepted():
    # 4.5 kW x 1.1 for a quarter hour is 1237.5 Wh, rounded up, plus one.
    parsed = _own(
        {"start": "2025-06-01T09:00:00Z", "end": "2025-06-01T09:15:00Z", "withdrawn_wh": 1239}
    )

    ingest.check_plausible(parsed, limits=ingest.PowerLimits(injection_w=0, withdrawal_w=4_500))


def test_split_over_hours_keeps_an_interval_within_one_hour_whole():
    parts = ingest.split_over_hours(
        dt.datetime(2025, 6, 1, 9, 15, tzinfo=UTC), dt.datetime(2025, 6, 1, 10, tzinfo=UTC), 700
    )

    assert parts == [(dt.datetime(2025, 6, 1, 9, tzinfo=UTC), 700)]


def test_split_over_hours_shares_energy_by_overlap():
    parts = ingest.split_over_hours(
        dt.datetime(2025, 6, 1, 9, 30, tzinfo=UTC), dt.datetime(2025, 6, 1, 11, tzinfo=UTC), 1000
    )

    assert parts == [
        (dt.datetime(2025, 6, 1, 9, tzinfo=UTC), 333),
        (dt.datetime(2025, 6, 1, 10, tzinfo=UTC), 667),
    ]


@given(
    start=st.integers(min_value=0, max_value=10**6),
    length=st.integers(min_value=1, max_value=86_400),
    energy=st.integers(min_value=0, max_value=10**9),
)
def test_split_over_hours_always_adds_up_to_the_whole(start, length, energy):
    start_at = dt.datetime(2025, 3, 29, tzinfo=UTC) + dt.timedelta(seconds=start)

    parts = ingest.split_over_hours(start_at, start_at + dt.timedelta(seconds=length), energy)

    assert sum(wh for _, wh in parts) == energy
    assert all(wh >= 0 for _, wh in parts)


def _judge(previous_wh, value_wh, *, seconds, rollover_wh=None):
    start = dt.datetime(2025, 6, 1, 9, tzinfo=UTC)
    return counter_rules.judge(
        counter_rules.ChainSample(start, previous_wh),
        counter_rules.ChainSample(start + dt.timedelta(seconds=seconds), value_wh),
        power_w=4500,
        rollover_wh=rollover_wh,
    )


def test_a_counter_that_grows_gives_the_difference():
    assert _judge(1000, 1100, seconds=600).delta_wh == 100


def test_a_plausibly_small_counter_after_a_drop_is_a_reset_counted_from_zero():
    verdict = _judge(1_000_000, 40, seconds=600)

    assert (verdict.fits, verdict.reset, verdict.delta_wh) == (True, True, 40)


def test_a_counter_rollover_counts_across_the_wrap():
    assert _judge(99_990, 15, seconds=600, rollover_wh=100_000).delta_wh == 25


def test_an_implausible_counter_jump_is_a_glitch_with_its_reason():
    verdict = _judge(1000, 900_000, seconds=60)

    assert not verdict.fits
    assert verdict.reason == (
        "the counter jumped by 899000 Wh in 60 s, more than the 84 Wh that 4500 W allow"
    )


@pytest.mark.parametrize(
    ("local", "utc_hour"),
    [
        # Last Sunday of March: 02:00 CET jumps to 03:00 CEST.
        ("2025-03-30T01:59:00+01:00", dt.datetime(2025, 3, 30, 0, tzinfo=UTC)),
        ("2025-03-30T03:00:00+02:00", dt.datetime(2025, 3, 30, 1, tzinfo=UTC)),
        # Last Sunday of October: 02:00-03:00 happens twice, told apart by the offset.
        ("2025-10-26T02:30:00+02:00", dt.datetime(2025, 10, 26, 0, tzinfo=UTC)),
        ("2025-10-26T02:30:00+01:00", dt.datetime(2025, 10, 26, 1, tzinfo=UTC)),
        ("2025-10-26T00:00:00+02:00", dt.datetime(2025, 10, 25, 22, tzinfo=UTC)),
    ],
)
def test_local_timestamps_around_dst_land_in_the_right_utc_hour(local, utc_hour):
    start = dt.datetime.fromisoformat(local)
    parsed = _own(
        {"start": local, "end": (start + dt.timedelta(minutes=1)).isoformat(), "withdrawn_wh": 5},
        received_at=dt.datetime(2025, 11, 1, tzinfo=UTC),
    )

    (reading,) = parsed.intervals

    assert ingest.split_over_hours(reading.start_at, reading.end_at, 5) == [(utc_hour, 5)]
