"""Which hours a batch books across a gap: their energy is interpolated, not measured.

Energy between two readings is split over the hours they span in proportion to time
(ingest.split_over_hours). Over a device's reporting interval that is a measurement; over a
gap longer than ingest.MAX_MEASURED_SPAN (one hour) only the total is measured: after a
24-hour outage the split would show the same few hundred Wh of injection in every night
hour. Those hours are written with quality INTERPOLATED (docs/metering.md, Gaps), which makes
a settlement that uses them provisional.

A span counts as a gap only when energy crossed it: a counter that did not move over a
night measured zero in every hour of it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Sequence

from cer.metering import ingest
from cer.metering.batches import AcceptedMessage
from cer.metering.bulk_writes import from_db_time, select_with_rows, time_adapter
from cer.metering.models import CounterChannel, CounterSample

Key = tuple[int, dt.datetime]  # (connection point, UTC hour start)


def interval_gap_hours(point_id: int, reading: ingest.IntervalReading) -> set[Key]:
    """Return the hours of an interval reading longer than a reporting interval."""
    if not (reading.injected_wh or reading.withdrawn_wh):
        return set()
    if not ingest.spans_a_gap(reading.start_at, reading.end_at):
        return set()
    return {(point_id, hour) for hour in ingest.hours_covered(reading.start_at, reading.end_at)}


def counter_gap_hours(accepted: Sequence[AcceptedMessage]) -> set[Key]:
    """Return the hours the batch's counter samples will book across a gap.

    Each device register's incoming samples are chained with the stored samples just
    before and just after them (one query for the batch); a pair of consecutive samples
    further apart than a reporting interval, whose values differ, books a gap. Stored
    samples inside such a pair (a late sample, a replay) are read before deciding, so a
    filled gap is not taken for one. Read before the counters are merged.
    """
    groups: dict[tuple[int, str], tuple[int, dict[dt.datetime, int]]] = {}
    for item in accepted:
        if item.device_id is None:
            continue
        for reading in item.parsed.counters:
            for channel, value in (
                (CounterChannel.INJECTED.value, reading.injected_total_wh),
                (CounterChannel.WITHDRAWN.value, reading.withdrawn_total_wh),
            ):
                if value is not None:
                    group = groups.setdefault((item.device_id, channel), (item.point_id, {}))
                    group[1].setdefault(reading.measured_at, value)
    if not groups:
        return set()
    neighbours = _stored_neighbours(
        [(device, channel, min(s), max(s)) for (device, channel), (_, s) in groups.items()]
    )
    hours: set[Key] = set()
    for key, (point_id, samples) in groups.items():
        before, after = neighbours[key]
        incoming = sorted(samples.items())
        # Between two incoming samples a stored one may lie; next to a neighbour none can.
        pairs = [(pair, True) for pair in itertools.pairwise(incoming)]
        if before:
            pairs.append(((before, incoming[0]), False))
        if after:
            pairs.append(((incoming[-1], after), False))
        for ((start, first), (end, last)), may_hold_stored in pairs:
            if first == last or not ingest.spans_a_gap(start, end):
                continue
            inside = _stored_between(key, start, end) if may_hold_stored else []
            for (a_at, a_value), (b_at, b_value) in itertools.pairwise(
                [(start, first), *inside, (end, last)]
            ):
                if a_value != b_value and ingest.spans_a_gap(a_at, b_at):
                    hours.update((point_id, hour) for hour in ingest.hours_covered(a_at, b_at))
    return hours


def _stored_between(
    key: tuple[int, str], start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, int]]:
    device_id, channel = key
    return list(
        CounterSample.objects.filter(
            device_id=device_id, channel=channel, measured_at__gt=start, measured_at__lt=end
        )
        .order_by("measured_at")
        .values_list("measured_at", "value_wh")
    )


def _stored_neighbours(
    groups: list[tuple[int, str, dt.datetime, dt.datetime]],
) -> dict[tuple[int, str], tuple[tuple[dt.datetime, int] | None, tuple[dt.datetime, int] | None]]:
    """Return, per register, the stored sample just before `first` and just after `last`."""
    table = CounterSample._meta.db_table
    nearest = (
        "(SELECT {column} FROM " + table + " s WHERE s.device_id = g.device_id "  # noqa: S608
        "AND s.channel = g.channel AND s.measured_at {op} g.{bound} "
        "ORDER BY s.measured_at {order} LIMIT 1)"
    )
    columns = ", ".join(
        nearest.format(column=column, op=op, bound=bound, order=order)
        for op, bound, order in (("<", "first_at", "DESC"), (">", "last_at", "ASC"))
        for column in ("measured_at", "value_wh")
    )
    select = f"SELECT g.device_id, g.channel, {columns} FROM g"  # noqa: S608 - fixed names
    db_time = time_adapter()
    rows = [
        (device, channel, db_time(first), db_time(last)) for device, channel, first, last in groups
    ]
    found = select_with_rows(
        "g",
        {
            "device_id": "bigint",
            "channel": "varchar",
            "first_at": "timestamptz",
            "last_at": "timestamptz",
        },
        rows,
        select,
    )
    result: dict = defaultdict(lambda: (None, None))
    for device_id, channel, before_at, before_wh, after_at, after_wh in found:
        result[(device_id, channel)] = (
            (from_db_time(before_at), before_wh) if before_at is not None else None,
            (from_db_time(after_at), after_wh) if after_at is not None else None,
        )
    return result
