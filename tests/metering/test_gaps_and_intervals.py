"""Gaps booked as interpolated, intervals keyed by their span, one Shelly path, digests purged."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse

from cer.metering.models import (
    DeviceKind,
    HourlyReading,
    IngestedMessage,
    IntervalEnergy,
    ReadingQuality,
    ReadingSource,
    RejectedMessage,
)
from cer.metering.recording import IncomingMessage, ingest_messages
from cer.privacy import gdpr
from cer.settlement.services import compute_month
from tests.factories.settlement import add_prices, add_readings, make_small
from tests.metering.conftest import make_device

UTC = dt.UTC
INT = ReadingQuality.INTERPOLATED.value
OK = ReadingQuality.VALID.value
# Settling needs the month to have ended.
AFTER_JUNE = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
ARRIVAL = dt.datetime(2025, 6, 3, tzinfo=UTC)


def _message(device, suffix, document, received_at=ARRIVAL):
    payload = document if isinstance(document, bytes) else json.dumps(document).encode()
    return IncomingMessage(f"{device.topic_prefix}/{suffix}", payload, received_at)


def _tasmota(at: dt.datetime, *, total_kwh: str, return_kwh: str) -> dict:
    # Tasmota with SetOption52 1: local time with its offset; energies in kWh.
    local = at.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
    return {"Time": local, "ENERGY": {"Total": float(total_kwh), "TotalReturn": float(return_kwh)}}


def _rows(point) -> dict[dt.datetime, tuple[int, int, str]]:
    rows = HourlyReading.objects.filter(connection_point=point, source=ReadingSource.DEVICE)
    return {
        row.hour_start: (row.injected_wh, row.withdrawn_wh, row.quality)
        for row in rows.order_by("hour_start")
    }


def _interval(start: str, end: str, withdrawn: int, **extra) -> dict:
    return {"start": start, "end": end, "withdrawn_wh": withdrawn, **extra}


# --- gaps are gaps -----------------------------------------------------------------------


def test_a_24_hour_gap_is_booked_as_one_interpolated_block_not_as_measured_hours(point):
    device = make_device(point, kind=DeviceKind.TASMOTA)
    evening = dt.datetime(2025, 6, 1, 17, 0, tzinfo=UTC)
    before = [
        _message(
            device,
            "tele/SENSOR",
            _tasmota(evening + dt.timedelta(minutes=m), total_kwh="100", return_kwh=returned),
        )
        for m, returned in ((0, "50"), (30, "50.5"), (60, "51"))
    ]
    # The device is away for 24 hours; its counter then shows 10 kWh more injected.
    after = _message(
        device,
        "tele/SENSOR",
        _tasmota(evening + dt.timedelta(hours=25), total_kwh="100", return_kwh="61"),
    )

    ingest_messages(messages=before)
    ingest_messages(messages=[after])

    rows = _rows(point)
    measured = rows.pop(evening)
    assert measured == (1000, 0, OK)
    assert {quality for _, _, quality in rows.values()} == {INT}
    assert len(rows) == 24
    assert sum(injected for injected, _, _ in rows.values()) == 10_000


def test_a_counter_that_did_not_move_across_a_gap_measured_zero(point):
    device = make_device(point, kind=DeviceKind.TASMOTA)
    night = dt.datetime(2025, 6, 1, 20, 0, tzinfo=UTC)
    ingest_messages(
        messages=[
            _message(device, "tele/SENSOR", _tasmota(night, total_kwh="100", return_kwh="50")),
            _message(
                device,
                "tele/SENSOR",
                _tasmota(
                    night + dt.timedelta(hours=8, minutes=1), total_kwh="100", return_kwh="50"
                ),
            ),
            _message(
                device,
                "tele/SENSOR",
                _tasmota(
                    night + dt.timedelta(hours=8, minutes=2), total_kwh="100.01", return_kwh="50"
                ),
            ),
        ]
    )

    assert _rows(point) == {dt.datetime(2025, 6, 2, 4, tzinfo=UTC): (0, 10, OK)}


def test_an_hour_measured_before_the_gap_is_marked_when_gap_energy_lands_in_it(point):
    device = make_device(point)
    ingest_messages(
        messages=[
            _message(
                device,
                "readings",
                {
                    "readings": [
                        {"at": "2025-06-01T10:00:00+00:00", "withdrawn_total_wh": 1000},
                        {"at": "2025-06-01T10:30:00+00:00", "withdrawn_total_wh": 1100},
                    ]
                },
            )
        ]
    )

    ingest_messages(
        messages=[
            _message(
                device, "readings", {"at": "2025-06-01T13:30:00+00:00", "withdrawn_total_wh": 1400}
            )
        ]
    )

    rows = _rows(point)
    assert rows[dt.datetime(2025, 6, 1, 10, tzinfo=UTC)] == (0, 150, INT)
    assert [rows[dt.datetime(2025, 6, 1, h, tzinfo=UTC)][2] for h in (11, 12, 13)] == [INT] * 3
    assert sum(withdrawn for _, withdrawn, _ in rows.values()) == 400


def test_an_interval_longer_than_an_hour_is_interpolated(point):
    device = make_device(point)

    ingest_messages(
        messages=[
            _message(
                device,
                "readings",
                _interval("2025-06-01T10:00:00+00:00", "2025-06-01T13:00:00+00:00", 900),
            )
        ]
    )

    assert _rows(point) == {
        dt.datetime(2025, 6, 1, h, tzinfo=UTC): (0, 300, INT) for h in (10, 11, 12)
    }


def test_the_api_shows_the_quality_of_each_hour(point, referente):
    device = make_device(point)
    ingest_messages(
        messages=[
            _message(
                device,
                "readings",
                {
                    "readings": [
                        _interval("2025-06-01T08:00:00+00:00", "2025-06-01T09:00:00+00:00", 100),
                        _interval("2025-06-01T09:00:00+00:00", "2025-06-01T11:00:00+00:00", 400),
                    ]
                },
            )
        ]
    )
    client = Client()
    client.force_login(referente)

    response = client.get(
        f"/api/v1/connection-points/{point.pk}/readings",
        {"from": "2025-06-01T00:00:00+00:00", "to": "2025-06-02T00:00:00+00:00"},
    )

    assert response.status_code == 200
    assert [(r["hour_start"], r["quality"]) for r in response.json()["results"]] == [
        ("2025-06-01T10:00:00+02:00", OK),
        ("2025-06-01T11:00:00+02:00", INT),
        ("2025-06-01T12:00:00+02:00", INT),
    ]


def test_a_month_with_an_interpolated_winning_hour_settles_as_provisional(db):
    june = dt.date(2025, 6, 1)
    small = make_small()
    add_readings(small, june, source=ReadingSource.DEVICE)
    add_prices(june)
    complete = compute_month(configuration=small.configuration, month=june, now=AFTER_JUNE)
    HourlyReading.objects.filter(
        connection_point=small.points["producer"], hour_start__day=10, hour_start__hour__lt=6
    ).update(quality=INT)

    run = compute_month(configuration=small.configuration, month=june, now=AFTER_JUNE).run

    assert not complete.run.provisional
    assert run.version == 2 and run.provisional
    assert any("interpolated" in warning for warning in run.warnings)


def test_a_grid_operator_reading_that_wins_over_an_interpolated_hour_keeps_it_final(db):
    june = dt.date(2025, 6, 1)
    small = make_small()
    add_readings(small, june, source=ReadingSource.GRID_OPERATOR)
    add_readings(small, june, source=ReadingSource.DEVICE)
    add_prices(june)
    HourlyReading.objects.filter(source=ReadingSource.DEVICE).update(quality=INT)

    run = compute_month(configuration=small.configuration, month=june, now=AFTER_JUNE).run

    assert not run.provisional


# --- intervals without overlap -----------------------------------------------------------


def _quarters(device) -> IncomingMessage:
    return _message(
        device,
        "readings",
        {
            "readings": [
                _interval("2025-06-01T10:45:00+00:00", "2025-06-01T11:00:00+00:00", 200),
                _interval("2025-06-01T11:00:00+00:00", "2025-06-01T11:15:00+00:00", 300),
            ]
        },
    )


def test_an_interval_overlapping_accepted_ones_is_rejected_with_its_reason(point):
    device = make_device(point)
    ingest_messages(messages=[_quarters(device)])

    outcome = ingest_messages(
        messages=[
            _message(
                device,
                "readings",
                _interval("2025-06-01T10:50:00+00:00", "2025-06-01T11:05:00+00:00", 60),
            )
        ]
    )

    stored = RejectedMessage.objects.get()
    assert outcome.rejected == 1
    assert stored.field == "start"
    assert "overlaps the interval [2025-06-01T10:45:00Z, 2025-06-01T11:00:00Z)" in stored.reason
    assert _rows(point) == {
        dt.datetime(2025, 6, 1, 10, tzinfo=UTC): (0, 200, OK),
        dt.datetime(2025, 6, 1, 11, tzinfo=UTC): (0, 300, OK),
    }


def test_an_interval_inside_the_end_of_a_day_long_one_is_found_however_far_back_it_starts(
    point,
):
    # The stored intervals never overlap, so the one reaching into a new reading is the
    # last to start before it: found by one probe back, 23 hours here.
    device = make_device(point)
    ingest_messages(
        messages=[
            _message(
                device,
                "readings",
                _interval("2025-06-01T00:00:00+00:00", "2025-06-02T00:00:00+00:00", 2400),
            ),
            _message(
                device,
                "readings",
                _interval("2025-06-02T00:00:00+00:00", "2025-06-02T00:15:00+00:00", 100),
            ),
        ]
    )

    outcome = ingest_messages(
        messages=[
            _message(
                device,
                "readings",
                _interval("2025-06-01T23:00:00+00:00", "2025-06-01T23:30:00+00:00", 50),
            ),
            _message(
                device,
                "readings",
                _interval("2025-06-02T00:15:00+00:00", "2025-06-02T00:30:00+00:00", 100),
            ),
        ]
    )

    stored = RejectedMessage.objects.get()
    assert (outcome.rejected, outcome.new_readings) == (1, 1)
    assert "overlaps the interval [2025-06-01T00:00:00Z, 2025-06-02T00:00:00Z)" in stored.reason
    assert IntervalEnergy.objects.count() == 3
    assert sum(wdr for _, wdr, _ in _rows(point).values()) == 2600


def test_overlapping_intervals_in_one_batch_keep_the_first_and_reject_the_later(point):
    device = make_device(point)
    late = _message(
        device, "readings", _interval("2025-06-01T10:50:00+00:00", "2025-06-01T11:05:00+00:00", 60)
    )

    ingest_messages(messages=[_quarters(device), late])

    assert RejectedMessage.objects.get().field == "start"
    assert sum(wdr for _, wdr, _ in _rows(point).values()) == 500


def test_overlapping_readings_inside_one_message_reject_the_whole_message(point):
    device = make_device(point)
    document = {
        "readings": [
            _interval("2025-06-01T10:00:00+00:00", "2025-06-01T10:15:00+00:00", 100),
            _interval("2025-06-01T10:10:00+00:00", "2025-06-01T10:25:00+00:00", 100),
        ]
    }

    ingest_messages(messages=[_message(device, "readings", document)])

    stored = RejectedMessage.objects.get()
    assert stored.field == "readings[1].start"
    assert "in the same message" in stored.reason
    assert not IntervalEnergy.objects.exists()
    assert not HourlyReading.objects.exists()


def test_a_resend_with_another_value_is_rejected_unless_it_says_correction(point):
    device = make_device(point)
    ingest_messages(messages=[_quarters(device)])
    span = ("2025-06-01T10:45:00+00:00", "2025-06-01T11:00:00+00:00")

    ingest_messages(messages=[_message(device, "readings", _interval(*span, 250))])
    unasked = RejectedMessage.objects.get()
    ingest_messages(messages=[_message(device, "readings", _interval(*span, 250, correction=True))])

    assert unasked.field == "correction"
    assert "already recorded with 0 Wh injected and 200 Wh withdrawn" in unasked.reason
    assert RejectedMessage.objects.count() == 1
    assert (
        IntervalEnergy.objects.get(
            start_at=dt.datetime(2025, 6, 1, 10, 45, tzinfo=UTC)
        ).withdrawn_wh
        == 250
    )
    assert _rows(point)[dt.datetime(2025, 6, 1, 10, tzinfo=UTC)] == (0, 250, OK)


def test_a_correction_of_an_interval_of_the_same_batch_books_the_corrected_value(point):
    device = make_device(point)
    span = ("2025-06-01T10:45:00+00:00", "2025-06-01T11:00:00+00:00")

    ingest_messages(
        messages=[
            _message(device, "readings", _interval(*span, 200)),
            _message(device, "readings", _interval(*span, 180, correction=True)),
        ]
    )

    assert _rows(point) == {dt.datetime(2025, 6, 1, 10, tzinfo=UTC): (0, 180, OK)}


def test_the_same_span_with_the_same_value_is_a_replay_not_a_rejection(point):
    device = make_device(point)
    ingest_messages(messages=[_quarters(device)])

    outcome = ingest_messages(messages=[_quarters(device)])

    assert (outcome.rejected, outcome.new_readings, outcome.duplicate_readings) == (0, 0, 2)
    assert sum(wdr for _, wdr, _ in _rows(point).values()) == 500


@pytest.mark.urls("tests.metering.urls")
def test_an_overlapping_upload_over_http_is_refused_and_nothing_of_it_is_stored(point, referente):
    device = make_device(point)
    ingest_messages(messages=[_quarters(device)])
    client = Client()
    client.force_login(referente)
    body = {
        "readings": [
            _interval("2025-06-01T09:00:00+00:00", "2025-06-01T09:15:00+00:00", 100),
            _interval("2025-06-01T10:50:00+00:00", "2025-06-01T11:05:00+00:00", 60),
        ]
    }

    response = client.post(
        reverse("api_point_readings", kwargs={"pod": point.pod}),
        data=json.dumps(body),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "readings[1].start"
    assert RejectedMessage.objects.get().channel == "HTTP"
    assert IntervalEnergy.objects.count() == 2
    assert sum(wdr for _, wdr, _ in _rows(point).values()) == 500


# --- one ingestion path per device -------------------------------------------------------


def _rpc(ts: float, total_act: float) -> dict:
    return {
        "src": "shellypro3em-a0dd6c9f1234",
        "method": "NotifyStatus",
        "params": {"ts": ts, "emdata:0": {"id": 0, "total_act": total_act, "total_act_ret": 0}},
    }


def test_a_shelly_with_notifications_and_status_both_on_counts_the_energy_once(point):
    device = make_device(point, kind=DeviceKind.SHELLY_EM)
    start = dt.datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    stream = []
    for minute, total in enumerate([1000.0, 1030.0, 1060.0, 1090.0]):
        at = start + dt.timedelta(minutes=minute)
        stream.append(_message(device, "events/rpc", _rpc(at.timestamp(), total), at))
        # The same counters as generic status, stamped on arrival: after an outage they
        # would arrive microseconds apart and out of step with the notifications.
        status = {"id": 0, "total_act": total + 7, "total_act_ret": 0}
        stream.append(_message(device, "status/emdata:0", status, at + dt.timedelta(seconds=9)))

    outcome = ingest_messages(messages=stream)

    assert outcome.ignored == 4
    assert outcome.rejected == 0
    assert _rows(point) == {dt.datetime(2025, 6, 2, 8, tzinfo=UTC): (0, 90, OK)}
    assert not IngestedMessage.objects.exists()


def test_a_status_only_shelly_ignores_notifications(point):
    device = make_device(point, kind=DeviceKind.SHELLY_STATUS)
    at = dt.datetime(2025, 6, 2, 8, 0, tzinfo=UTC)

    outcome = ingest_messages(
        messages=[
            _message(device, "events/rpc", _rpc(at.timestamp(), 1000.0), at),
            _message(device, "status/emdata:0", {"id": 0, "total_act": 1000.0}, at),
        ]
    )

    assert (outcome.ignored, outcome.new_readings) == (1, 1)


# --- housekeeping ------------------------------------------------------------------------


def test_digests_of_accepted_status_messages_are_purged_by_age(point, settings):
    settings.INGESTED_MESSAGE_RETENTION_DAYS = 30
    device = make_device(point, kind=DeviceKind.SHELLY_STATUS)
    old = dt.datetime(2025, 6, 1, 8, tzinfo=UTC)
    ingest_messages(messages=[_message(device, "status/emdata:0", {"id": 0, "total_act": 1}, old)])
    recent = old + dt.timedelta(days=40)
    ingest_messages(
        messages=[_message(device, "status/emdata:0", {"id": 0, "total_act": 2}, recent)]
    )

    outcome = gdpr.apply_retention(now=recent + dt.timedelta(days=1))

    assert outcome["ingested_messages"] == 1
    assert list(IngestedMessage.objects.values_list("received_at", flat=True)) == [recent]


def test_the_digest_retention_has_a_floor_of_seven_days(point, settings):
    settings.INGESTED_MESSAGE_RETENTION_DAYS = 1
    device = make_device(point, kind=DeviceKind.SHELLY_STATUS)
    at = dt.datetime(2025, 6, 1, 8, tzinfo=UTC)
    ingest_messages(messages=[_message(device, "status/emdata:0", {"id": 0, "total_act": 1}, at)])

    gdpr.apply_retention(now=at + dt.timedelta(days=6))

    assert IngestedMessage.objects.count() == 1


def test_the_stored_spans_read_for_a_batch_include_every_one_that_meets_a_reading(point):
    # The screening reads the stored spans once per run of a point's readings
    # (intervals._runs), not once per reading: whatever the batch, every stored span that
    # meets one of its readings must come back, or an overlap would slip through.
    import random

    from cer.metering import ingest
    from cer.metering.intervals import _stored_meeting

    device = make_device(point)
    base = dt.datetime(2025, 6, 1, tzinfo=UTC)
    rng = random.Random(20261207)
    for _trial in range(40):
        IntervalEnergy.objects.all().delete()
        stored, at = [], base
        while at < base + dt.timedelta(hours=6):
            at += dt.timedelta(minutes=rng.choice([0, 0, 1, 7, 20]))
            end = at + dt.timedelta(minutes=rng.choice([1, 5, 15, 90]))
            stored.append((at, end))
            at = end
        IntervalEnergy.objects.bulk_create(
            IntervalEnergy(
                connection_point=point,
                device=device,
                start_at=start,
                end_at=end,
                injected_wh=0,
                withdrawn_wh=1,
                received_at=ARRIVAL,
            )
            for start, end in stored
        )
        candidates = []
        for _ in range(rng.randint(1, 12)):
            start = base + dt.timedelta(minutes=rng.randint(-30, 400))
            end = start + dt.timedelta(minutes=rng.choice([1, 2, 15, 60]))
            candidates.append((point.pk, ingest.IntervalReading(start, end, 0, 1)))

        found = {(start, end) for _, start, end, _, _ in _stored_meeting(candidates)}

        for _, reading in candidates:
            meeting = {
                (start, end)
                for start, end in stored
                if start < reading.end_at and end > reading.start_at
            }
            assert meeting <= found, (reading, meeting - found)
