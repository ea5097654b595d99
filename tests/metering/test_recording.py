"""Recording readings: hourly totals, exactly once, rejections kept, counters and DST."""

from __future__ import annotations

import datetime as dt
import json

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cer.metering.models import (
    CounterSample,
    DeviceKind,
    DeviceStatus,
    HourlyReading,
    ReadingSource,
    RejectedMessage,
)
from cer.metering.recording import IncomingMessage, ingest_messages
from tests.metering.conftest import make_device

UTC = dt.UTC
ARRIVAL = dt.datetime(2025, 11, 1, tzinfo=UTC)


def _topic(device, suffix="readings"):
    return f"{device.topic_prefix}/{suffix}"


def _message(device, document, suffix="readings", received_at=ARRIVAL):
    payload = document if isinstance(document, bytes) else json.dumps(document).encode()
    return IncomingMessage(topic=_topic(device, suffix), payload=payload, received_at=received_at)


def _interval(start: str, end: str, *, injected=0, withdrawn=0):
    return {"start": start, "end": end, "injected_wh": injected, "withdrawn_wh": withdrawn}


def _counter(at: str, *, withdrawn: int, injected: int | None = None):
    reading = {"at": at, "withdrawn_total_wh": withdrawn}
    if injected is not None:
        reading["injected_total_wh"] = injected
    return reading


def _hourly(point) -> dict[dt.datetime, tuple[int, int]]:
    rows = HourlyReading.objects.filter(connection_point=point, source=ReadingSource.DEVICE)
    return {
        row.hour_start: (row.injected_wh, row.withdrawn_wh)
        for row in rows.order_by("hour_start")
        if row.injected_wh or row.withdrawn_wh
    }


def test_an_interval_reading_lands_in_its_utc_hour(point):
    device = make_device(point)
    message = _message(
        device, _interval("2025-06-01T12:00:00+02:00", "2025-06-01T12:15:00+02:00", injected=900)
    )

    outcome = ingest_messages(messages=[message])

    assert outcome.new_readings == 1
    assert _hourly(point) == {dt.datetime(2025, 6, 1, 10, tzinfo=UTC): (900, 0)}


def test_replaying_a_message_changes_nothing(point):
    device = make_device(point)
    message = _message(
        device, _interval("2025-06-01T12:00:00+02:00", "2025-06-01T12:15:00+02:00", withdrawn=300)
    )
    ingest_messages(messages=[message])

    outcome = ingest_messages(messages=[message, message])

    assert outcome.new_readings == 0
    assert outcome.duplicate_readings == 2
    assert _hourly(point) == {dt.datetime(2025, 6, 1, 10, tzinfo=UTC): (0, 300)}


def test_a_message_for_an_unknown_device_is_kept_with_its_reason(point):
    topic = f"cer/{point.configuration_id}/{point.pod}/ghost/readings"
    message = IncomingMessage(topic=topic, payload=b'{"x": 1}', received_at=ARRIVAL)

    outcome = ingest_messages(messages=[message])

    stored = RejectedMessage.objects.get()
    assert outcome.rejected == 1
    assert bytes(stored.payload) == b'{"x": 1}'
    assert stored.topic == topic
    assert stored.configuration_id == point.configuration_id
    assert "no device 'ghost'" in stored.reason


def test_a_topic_outside_the_scheme_is_kept_without_configuration(db):
    message = IncomingMessage(topic="tele/tasmota/SENSOR", payload=b"\x00\x01", received_at=ARRIVAL)

    ingest_messages(messages=[message])

    stored = RejectedMessage.objects.get()
    assert stored.field == "topic"
    assert stored.configuration_id is None
    assert bytes(stored.payload) == b"\x00\x01"


def test_non_json_naive_and_absurd_payloads_are_rejected_with_the_field(point):
    device = make_device(point)
    messages = [
        _message(device, b"not json"),
        _message(device, _interval("2025-06-01T12:00:00", "2025-06-01T12:15:00+02:00", injected=1)),
        _message(
            device,
            _interval("2025-06-01T12:00:00+02:00", "2025-06-01T12:15:00+02:00", injected=50_000),
        ),
        _message(
            device, _interval("2025-06-01T12:00:00+02:00", "2025-06-01T12:15:00+02:00", injected=-1)
        ),
    ]

    outcome = ingest_messages(messages=messages)

    fields = sorted(RejectedMessage.objects.values_list("field", flat=True))
    assert outcome.rejected == 4
    assert fields == ["injected_wh", "injected_wh", "payload", "start"]
    assert _hourly(point) == {}


def test_a_disabled_device_is_refused(point):
    device = make_device(point, status=DeviceStatus.DISABLED)
    message = _message(
        device, _interval("2025-06-01T12:00:00+02:00", "2025-06-01T12:15:00+02:00", injected=5)
    )

    ingest_messages(messages=[message])

    assert "disabled" in RejectedMessage.objects.get().reason
    assert _hourly(point) == {}


def test_device_chatter_is_ignored_not_rejected(point):
    device = make_device(point, kind=DeviceKind.TASMOTA)

    outcome = ingest_messages(messages=[_message(device, b"Online", suffix="tele/LWT")])

    assert outcome.ignored == 1
    assert not RejectedMessage.objects.exists()


def test_counters_become_interval_energy_split_over_hours(point):
    device = make_device(point)
    readings = [
        _counter("2025-06-01T09:30:00Z", withdrawn=10_000, injected=500),
        _counter("2025-06-01T10:30:00Z", withdrawn=11_000, injected=500),
    ]

    ingest_messages(messages=[_message(device, {"readings": readings})])

    assert _hourly(point) == {
        dt.datetime(2025, 6, 1, 9, tzinfo=UTC): (0, 500),
        dt.datetime(2025, 6, 1, 10, tzinfo=UTC): (0, 500),
    }


def test_the_counter_baseline_survives_between_batches(point):
    device = make_device(point)
    ingest_messages(messages=[_message(device, _counter("2025-06-01T09:00:00Z", withdrawn=7_000))])

    ingest_messages(messages=[_message(device, _counter("2025-06-01T09:20:00Z", withdrawn=7_400))])

    assert _hourly(point) == {dt.datetime(2025, 6, 1, 9, tzinfo=UTC): (0, 400)}
    assert CounterSample.objects.filter(device=device).count() == 2


def test_a_late_counter_sample_splits_the_interval_it_falls_into(point):
    device = make_device(point)
    ingest_messages(
        messages=[
            _message(device, _counter("2025-06-01T09:40:00Z", withdrawn=1_000)),
            _message(device, _counter("2025-06-01T10:20:00Z", withdrawn=3_000)),
        ]
    )

    ingest_messages(messages=[_message(device, _counter("2025-06-01T10:00:00Z", withdrawn=2_600))])

    assert _hourly(point) == {
        dt.datetime(2025, 6, 1, 9, tzinfo=UTC): (0, 1_600),
        dt.datetime(2025, 6, 1, 10, tzinfo=UTC): (0, 400),
    }


def test_a_counter_reset_counts_from_zero(point):
    device = make_device(point)
    readings = [
        _counter("2025-06-01T09:00:00Z", withdrawn=900_000),
        _counter("2025-06-01T09:10:00Z", withdrawn=900_200),
        _counter("2025-06-01T09:20:00Z", withdrawn=150),
    ]

    ingest_messages(messages=[_message(device, {"readings": readings})])

    assert _hourly(point) == {dt.datetime(2025, 6, 1, 9, tzinfo=UTC): (0, 350)}


def test_a_counter_rollover_counts_across_the_wrap(point):
    device = make_device(point, counter_rollover_wh=1_000_000)
    readings = [
        _counter("2025-06-01T09:00:00Z", withdrawn=999_800),
        _counter("2025-06-01T09:10:00Z", withdrawn=100),
    ]

    ingest_messages(messages=[_message(device, {"readings": readings})])

    assert _hourly(point) == {dt.datetime(2025, 6, 1, 9, tzinfo=UTC): (0, 300)}


def test_shelly_status_stamped_on_arrival_is_counted_once_when_redelivered(point):
    device = make_device(point, kind=DeviceKind.SHELLY_STATUS)
    first = b'{"id": 0, "total_act": 1000.4, "total_act_ret": 0}'
    second = b'{"id": 0, "total_act": 1250.9, "total_act_ret": 0}'
    at = dt.datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    stream = [
        _message(device, first, suffix="status/emdata:0", received_at=at),
        _message(device, second, suffix="status/emdata:0", received_at=at.replace(minute=5)),
    ]
    ingest_messages(messages=stream)

    # After a crash between commit and acknowledgement the broker sends it again, later.
    ingest_messages(
        messages=[
            _message(device, second, suffix="status/emdata:0", received_at=at.replace(minute=9))
        ]
    )

    assert _hourly(point) == {dt.datetime(2025, 6, 1, 9, tzinfo=UTC): (0, 250)}


def test_counters_across_the_march_dst_change_land_in_utc_hours(point):
    device = make_device(point)
    # 01:30 CET is 00:30 UTC; 03:30 CEST is 01:30 UTC: one hour apart, not two.
    readings = [
        _counter("2025-03-30T01:30:00+01:00", withdrawn=0),
        _counter("2025-03-30T03:30:00+02:00", withdrawn=2_000),
    ]

    ingest_messages(messages=[_message(device, {"readings": readings})])

    assert _hourly(point) == {
        dt.datetime(2025, 3, 30, 0, tzinfo=UTC): (0, 1_000),
        dt.datetime(2025, 3, 30, 1, tzinfo=UTC): (0, 1_000),
    }


def test_the_repeated_october_hour_is_two_distinct_utc_hours(point):
    device = make_device(point)
    messages = [
        _message(
            device,
            _interval("2025-10-26T02:00:00+02:00", "2025-10-26T03:00:00+02:00", withdrawn=700),
        ),
        _message(
            device,
            _interval("2025-10-26T02:00:00+01:00", "2025-10-26T03:00:00+01:00", withdrawn=800),
        ),
        _message(
            device,
            _interval("2025-10-26T00:00:00+02:00", "2025-10-26T01:00:00+02:00", withdrawn=100),
        ),
    ]

    ingest_messages(messages=messages)

    assert _hourly(point) == {
        dt.datetime(2025, 10, 25, 22, tzinfo=UTC): (0, 100),
        dt.datetime(2025, 10, 26, 0, tzinfo=UTC): (0, 700),
        dt.datetime(2025, 10, 26, 1, tzinfo=UTC): (0, 800),
    }


# A small stream: counters every 20 minutes with a reset, and interval readings.
_BASE = dt.datetime(2025, 10, 25, 23, 10, tzinfo=UTC)
_COUNTERS = [
    (0, 1_000, 50),
    (20, 1_300, 50),
    (40, 1_900, 60),
    (60, 2_000, 400),
    (80, 40, 900),  # counter reset
    (100, 500, 900),
    (150, 1_200, 1_500),
]
_INTERVALS = [(0, 15, 200, 0), (15, 30, 100, 30), (45, 120, 0, 900)]


def _stream(device) -> list[IncomingMessage]:
    messages = []
    for minutes, withdrawn, injected in _COUNTERS:
        at = (_BASE + dt.timedelta(minutes=minutes)).isoformat()
        messages.append(_message(device, _counter(at, withdrawn=withdrawn, injected=injected)))
    return messages


def _interval_stream(device) -> list[IncomingMessage]:
    return [
        _message(
            device,
            _interval(
                (_BASE + dt.timedelta(minutes=start)).isoformat(),
                (_BASE + dt.timedelta(minutes=end)).isoformat(),
                injected=injected,
                withdrawn=withdrawn,
            ),
        )
        for start, end, injected, withdrawn in _INTERVALS
    ]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_order_and_duplication_of_a_stream_gives_the_same_totals(point, data):
    counter_device = make_device(point)
    interval_device = make_device(point)
    stream = _stream(counter_device) + _interval_stream(interval_device)
    with transaction.atomic():
        ingest_messages(messages=stream)
        expected = _hourly(point)
        transaction.set_rollback(True)
    replay = data.draw(st.lists(st.sampled_from(stream), min_size=len(stream), max_size=30))
    replay = data.draw(st.permutations(replay + stream))
    batch = data.draw(st.integers(min_value=1, max_value=len(replay)))

    with transaction.atomic():
        for start in range(0, len(replay), batch):
            ingest_messages(messages=replay[start : start + batch])
        actual = _hourly(point)
        transaction.set_rollback(True)

    assert actual == expected
    assert sum(wdr for _, wdr in expected.values()) == 300 + 600 + 100 + 40 + 460 + 700 + 30 + 900
