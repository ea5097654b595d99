"""Accepted spans of interval readings: a replay adds nothing, an overlap is refused.

The platform's own JSON sends the energy of an interval [start, end). An interval is keyed
by its span, per connection point (docs/metering.md, Intervals without overlap):

- the same span with the same energy is a replay: it adds nothing;
- the same span with other energy replaces the earlier value only when the reading says
  `"correction": true`; otherwise it is rejected, naming the values already recorded;
- a span that overlaps an accepted one (10:50-11:05 on top of 10:45-11:00) is rejected:
  booking both would count the overlap twice.

A message is accepted or rejected whole, so nothing of a refused upload is half-stored.
Messages of a batch are screened in their order of arrival against the stored spans and
against the spans the batch accepted before them.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from cer.metering import ingest
from cer.metering.batches import AcceptedMessage
from cer.metering.bulk_writes import from_db_time, select_with_rows, time_adapter
from cer.metering.models import IntervalEnergy


@dataclass(frozen=True)
class Correction:
    """A stored interval whose energy a reading with `"correction": true` replaces [Wh]."""

    point_id: int
    reading: ingest.IntervalReading
    old_injected_wh: int
    old_withdrawn_wh: int


@dataclass
class IntervalPlan:
    """What a batch's interval readings do.

    `rejections` maps the index of a refused message (in the screened list) to its reason;
    `new` holds, per (point, start), the message and reading to insert (with the values
    of a correction sent in the same batch); `corrections` replace stored intervals.
    """

    rejections: dict[int, ingest.Rejection] = field(default_factory=dict)
    new: dict[tuple[int, dt.datetime], tuple[AcceptedMessage, ingest.IntervalReading]] = field(
        default_factory=dict
    )
    corrections: list[Correction] = field(default_factory=list)
    duplicates: int = 0


class _Spans:
    """The accepted spans of one point, sorted by start: they never overlap."""

    def __init__(self) -> None:
        self.starts: list[dt.datetime] = []
        self.items: list[list] = []  # [start, end, injected, withdrawn, stored]

    def add(
        self, start: dt.datetime, end: dt.datetime, injected: int, withdrawn: int, *, stored: bool
    ) -> None:
        index = bisect.bisect_left(self.starts, start)
        self.starts.insert(index, start)
        self.items.insert(index, [start, end, injected, withdrawn, stored])

    def meeting(self, start: dt.datetime, end: dt.datetime) -> list | None:
        """Return the span equal to [start, end) or overlapping it, if any."""
        index = bisect.bisect_left(self.starts, start)
        for near in (index - 1, index):
            if 0 <= near < len(self.items):
                item = self.items[near]
                if item[0] < end and item[1] > start:
                    return item
        return None


def screen(accepted: Sequence[AcceptedMessage]) -> IntervalPlan:
    """Sort the interval readings of accepted messages into new, replayed, corrected, refused.

    Reads the stored spans that meet the batch's readings in one query. Must run inside
    the transaction that records the batch.
    """
    plan = IntervalPlan()
    candidates = [
        (item.point_id, reading) for item in accepted for reading in item.parsed.intervals
    ]
    if not candidates:
        return plan
    spans: dict[int, _Spans] = defaultdict(_Spans)
    for point_id, start, end, injected, withdrawn in _stored_meeting(candidates):
        if spans[point_id].meeting(start, end) is None:
            spans[point_id].add(start, end, injected, withdrawn, stored=True)
    for index, item in enumerate(accepted):
        if not item.parsed.intervals:
            continue
        rejection, staged = _screen_message(item, spans[item.point_id])
        if rejection is not None:
            plan.rejections[index] = rejection
            continue
        for reading, met in staged:
            _apply(plan, item, reading, met, spans[item.point_id])
    return plan


def _screen_message(
    item: AcceptedMessage, spans: _Spans
) -> tuple[ingest.Rejection | None, list[tuple[ingest.IntervalReading, list | None]]]:
    """Check each reading of one message; the first problem refuses the whole message."""
    many = len(item.parsed.intervals) > 1
    own = _Spans()  # the message's own readings must not overlap each other either
    staged: list[tuple[ingest.IntervalReading, list | None]] = []
    for position, reading in enumerate(item.parsed.intervals):
        prefix = f"readings[{position}]." if many else ""
        start, end = reading.start_at, reading.end_at
        mine = own.meeting(start, end)
        if mine is not None:
            return (
                ingest.Rejection(
                    prefix + "start",
                    f"[{_iso(start)}, {_iso(end)}) overlaps [{_iso(mine[0])}, {_iso(mine[1])}) "
                    "in the same message",
                ),
                [],
            )
        own.add(start, end, reading.injected_wh, reading.withdrawn_wh, stored=False)
        met = spans.meeting(start, end)
        if met is None:
            staged.append((reading, None))
            continue
        if (met[0], met[1]) != (start, end):
            return (
                ingest.Rejection(
                    prefix + "start",
                    f"[{_iso(start)}, {_iso(end)}) overlaps the interval "
                    f"[{_iso(met[0])}, {_iso(met[1])}) already recorded; the intervals of a "
                    "connection point may not overlap",
                ),
                [],
            )
        same = (met[2], met[3]) == (reading.injected_wh, reading.withdrawn_wh)
        if not same and not reading.correction:
            return (
                ingest.Rejection(
                    prefix + "correction",
                    f"[{_iso(start)}, {_iso(end)}) was already recorded with {met[2]} Wh "
                    f"injected and {met[3]} Wh withdrawn; send the same span with "
                    '"correction": true to replace it',
                ),
                [],
            )
        staged.append((reading, met))
    return None, staged


def _apply(
    plan: IntervalPlan,
    item: AcceptedMessage,
    reading: ingest.IntervalReading,
    met: list | None,
    spans: _Spans,
) -> None:
    key = (item.point_id, reading.start_at)
    if met is None:
        spans.add(
            reading.start_at,
            reading.end_at,
            reading.injected_wh,
            reading.withdrawn_wh,
            stored=False,
        )
        plan.new[key] = (item, reading)
        return
    if (met[2], met[3]) == (reading.injected_wh, reading.withdrawn_wh):
        plan.duplicates += 1
        return
    if met[4]:
        plan.corrections.append(Correction(item.point_id, reading, met[2], met[3]))
    else:
        # Corrects a reading of this same batch: insert the corrected values instead.
        first, _ = plan.new[key]
        plan.new[key] = (first, replace(reading, correction=False))
    met[2], met[3], met[4] = reading.injected_wh, reading.withdrawn_wh, met[4]


def _stored_meeting(
    candidates: list[tuple[int, ingest.IntervalReading]],
) -> list[tuple[int, dt.datetime, dt.datetime, int, int]]:
    """Return the stored intervals that meet any candidate's span (and a few more), in one query.

    The stored intervals of a point never overlap (screen keeps them so), so of those
    starting before a candidate only the last one can reach into it: the scan of the
    (point, start) index starts there, found by one backward probe. Bounding it by the
    longest interval instead (a day before the start) read every interval of that day
    for each candidate: a thousand rows per one-minute reading.

    A device's messages in one batch are mostly consecutive readings: the candidates of a
    point are merged into runs (_runs) and each run costs one probe and one index scan,
    instead of two per reading. What a run's scan also returns between its candidates
    meets none of them; the caller checks each candidate against what is returned.
    """
    table = IntervalEnergy._meta.db_table
    db_time = time_adapter()
    rows = [(point_id, db_time(start), db_time(end)) for point_id, start, end in _runs(candidates)]
    select = (
        f", b AS (SELECT c.point_id, c.start_at, c.end_at, COALESCE((SELECT max(x.start_at) "  # noqa: S608
        f"FROM {table} x WHERE x.connection_point_id = c.point_id AND x.start_at < c.start_at), "
        "c.start_at) AS low_at FROM c) "
        "SELECT DISTINCT e.connection_point_id, e.start_at, e.end_at, e.injected_wh, "
        f"e.withdrawn_wh FROM b JOIN {table} e ON e.connection_point_id = b.point_id "
        "AND e.start_at >= b.low_at AND e.start_at < b.end_at AND e.end_at > b.start_at"
    )
    found = select_with_rows(
        "c",
        {"point_id": "bigint", "start_at": "timestamptz", "end_at": "timestamptz"},
        rows,
        select,
    )
    return [
        (point_id, from_db_time(start), from_db_time(end), injected, withdrawn)
        for point_id, start, end, injected, withdrawn in found
    ]


# Candidates of a point this close [s] share one run of _stored_meeting: a run's scan
# reads the stored intervals in its gaps too, a few at most at this distance.
RUN_GAP = dt.timedelta(minutes=15)


def _runs(
    candidates: list[tuple[int, ingest.IntervalReading]],
) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """Merge each point's candidate spans into (point, start, end) runs, no gap over RUN_GAP."""
    spans = sorted((point_id, r.start_at, r.end_at) for point_id, r in candidates)
    runs: list[list] = []
    for point_id, start, end in spans:
        last = runs[-1] if runs else None
        if last is not None and last[0] == point_id and start <= last[2] + RUN_GAP:
            last[2] = max(last[2], end)
        else:
            runs.append([point_id, start, end])
    return [(point_id, start, end) for point_id, start, end in runs]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
