"""Figures of some Europe/Rome days per point and source: what the alerts' daily rules read.

`day_sums_by_point_source` gives, per point and source of some communities, the hours with
a reading on some days, the withdrawn energy of some days and the injected energy of
others. The rows (open months, corrections) are summed by the database in one grouped
query; the packed months (cer/metering/packed.py) are summed here in bulk: the packed rows
of one month are decoded into one points x hours matrix, and each day is a slice of its
columns summed for every point at once (never one reading at a time, never one point at a
time over all the readings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import Aggregate, Count, Q, Sum

from cer.core import deflate
from cer.metering import packed
from cer.metering.models import HourlyReading, PackedMonth
from cercalc import periods
from cercalc.periods import HOUR_S

_IDS_PER_QUERY = 500  # well under SQLite's limit on bound parameters

# The three kinds of figure, in the order of a result row after (point, POD, community).
_HOURS, _WITHDRAWN, _INJECTED = 0, 1, 2


def day_sums_by_point_source(
    *,
    community_ids: Sequence[int],
    hour_days: Sequence[dt.date],
    withdrawn_days: Sequence[dt.date],
    injected_days: Sequence[dt.date],
) -> list[tuple[Any, ...]]:
    """Per point and source of the communities, figures of some Europe/Rome days.

    Each row: point id, POD, community id, then the number of hours with a reading of each
    of `hour_days`, the withdrawn energy of each of `withdrawn_days` and the injected energy
    of each of `injected_days` [Wh] (None where the point has no reading that day). The
    sources are not ranked: the caller picks (the alerts take the largest figure).
    """
    bounds = {
        day: periods.day(day).utc_bounds() for day in {*hour_days, *withdrawn_days, *injected_days}
    }
    if not bounds:
        return []
    wanted = [
        *((_HOURS, day) for day in hour_days),
        *((_WITHDRAWN, day) for day in withdrawn_days),
        *((_INJECTED, day) for day in injected_days),
    ]
    found = _row_sums(community_ids, bounds, wanted)
    _add_packed(found, community_ids, bounds, wanted)
    return [tuple(row) for row in found.values()]


def _row_sums(
    community_ids: Sequence[int],
    bounds: Mapping[dt.date, tuple[dt.datetime, dt.datetime]],
    wanted: Sequence[tuple[int, dt.date]],
) -> dict[tuple[int, str], list[Any]]:
    """The figures of the rows, one grouped query; keyed by (point, source code)."""

    def within(day: dt.date) -> Q:
        start, end = bounds[day]
        return Q(hour_start__gte=start, hour_start__lt=end)

    window = Q()
    for day in sorted(bounds):
        window |= within(day)
    # The overall span as a plain range as well: the partitions outside it are never read.
    low = min(start for start, _ in bounds.values())
    high = max(end for _, end in bounds.values())
    column = {_HOURS: "hour_start", _WITHDRAWN: "withdrawn_wh", _INJECTED: "injected_wh"}
    aggregates: dict[str, Aggregate] = {
        f"f{i}": (Count if kind == _HOURS else Sum)(column[kind], filter=within(day))
        for i, (kind, day) in enumerate(wanted)
    }
    point, community = "connection_point", "connection_point__configuration__community_id"
    grouped = (
        HourlyReading.objects.filter(
            window,
            hour_start__gte=low,
            hour_start__lt=high,
            **{f"{community}__in": list(community_ids)},
        )
        .values(point, "source", "connection_point__pod", community)
        .annotate(**aggregates)
        .order_by()
    )
    return {
        (row[point], row["source"]): [
            row[point],
            row["connection_point__pod"],
            row[community],
            *(row[name] for name in aggregates),
        ]
        for row in grouped
    }


def _add_packed(
    found: dict[tuple[int, str], list[Any]],
    community_ids: Sequence[int],
    bounds: Mapping[dt.date, tuple[dt.datetime, dt.datetime]],
    wanted: Sequence[tuple[int, dt.date]],
) -> None:
    """Add the figures of packed months to `found` (rows per point and source), in place.

    A day lies in one month, which is either rows or packed for a point: a figure comes from
    one side only, so a None (no reading) is replaced and counts add.
    """
    from cer.plants.models import ConnectionPoint  # plants imports metering models

    points = {
        pk: (pod, community_id)
        for pk, pod, community_id in ConnectionPoint.objects.filter(
            configuration__community_id__in=list(community_ids)
        ).values_list("pk", "pod", "configuration__community_id")
    }
    low = int(min(start for start, _ in bounds.values()).timestamp())
    high = int(max(end for _, end in bounds.values()).timestamp())
    for month_start, rows in _packed_rows_by_month(sorted(points), low, high).items():
        seen, figures = _month_figures(month_start, rows, bounds, wanted)
        for index in np.flatnonzero(seen).tolist():
            point_id, code = rows[index][0], rows[index][1]
            values = figures[index].tolist()
            pod, community_id = points[point_id]
            row = found.setdefault(
                (point_id, code), [point_id, pod, community_id, *[None] * len(wanted)]
            )
            for offset, value in enumerate(values):
                if value < 0:  # no reading of this point and source that day
                    continue
                current = row[3 + offset]
                row[3 + offset] = value if current is None else current + value


def _packed_rows_by_month(
    point_ids: list[int], low_s: int, high_s: int
) -> dict[int, list[tuple[Any, ...]]]:
    """The packed rows (with a source) of the months overlapping [low_s, high_s), by month.

    Each row: (point, source, hour count, present, injected, withdrawn), blobs as stored;
    the key is the month's first UTC instant [s].
    """
    first_month_s = packed.months_touching(low_s, high_s)[0].utc_bounds_s()[0]
    lower = dt.datetime.fromtimestamp(first_month_s, tz=dt.UTC)
    upper = dt.datetime.fromtimestamp(high_s, tz=dt.UTC)
    fields = ("connection_point_id", "source", "hour_count", "present", "injected", "withdrawn")
    by_month: dict[int, list[tuple[Any, ...]]] = {}
    for first in range(0, len(point_ids), _IDS_PER_QUERY):
        rows = (
            PackedMonth.objects.filter(
                connection_point_id__in=point_ids[first : first + _IDS_PER_QUERY],
                month_start__gte=lower,
                month_start__lt=upper,
            )
            .exclude(source="")
            .order_by()
            .values_list("month_start", *fields)
        )
        for month_start, *rest in rows:
            by_month.setdefault(int(month_start.timestamp()), []).append(tuple(rest))
    return by_month


def _month_figures(
    month_start_s: int,
    rows: Sequence[tuple[Any, ...]],
    bounds: Mapping[dt.date, tuple[dt.datetime, dt.datetime]],
    wanted: Sequence[tuple[int, dt.date]],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """The figures of one month's packed rows, as the grouped query gives them for rows.

    Returns which rows have a reading on some wanted day (the others are left out, as the
    query leaves out a group without a row in its window) and their figures, one column
    per wanted day: hours counted (0 for a day of another month), energies summed (-1 for
    no reading that day). The month's rows are decoded into rows x hours matrices once;
    a day is a slice of columns, summed for every row at once.
    """
    hours = int(rows[0][2])
    month_end_s = month_start_s + hours * HOUR_S
    spans: list[tuple[int, int, int]] = []
    for kind, day in wanted:
        start, end = (int(moment.timestamp()) for moment in bounds[day])
        inside = start >= month_start_s and end <= month_end_s
        low, high = ((start - month_start_s) // HOUR_S, (end - month_start_s) // HOUR_S)
        spans.append((kind, low, high) if inside else (kind, 0, 0))
    figures = np.full((len(rows), len(wanted)), -1, dtype=np.int64)
    seen = np.zeros(len(rows), dtype=bool)
    if all(low == high for _kind, low, high in spans):
        return seen, figures
    present = np.unpackbits(
        np.frombuffer(b"".join(bytes(row[3]) for row in rows), dtype=np.uint8).reshape(
            len(rows), -1
        ),
        axis=1,
        count=hours,
    ).astype(np.int64)
    kinds = {kind for kind, low, high in spans if low < high}
    energy = {
        kind: np.frombuffer(
            b"".join(deflate.decompress(row[index]) for row in rows), dtype="<i8"
        ).reshape(len(rows), hours)
        for kind, index in ((_INJECTED, 4), (_WITHDRAWN, 5))
        if kind in kinds
    }
    for position, (kind, low, high) in enumerate(spans):
        count = present[:, low:high].sum(axis=1)
        seen |= count > 0
        if kind == _HOURS:
            figures[:, position] = count
        elif low < high:
            # Hours without a reading are stored as 0: the slice sums the readings only.
            sums = energy[kind][:, low:high].sum(axis=1)
            figures[:, position] = np.where(count > 0, sums, -1)
    return seen, figures
