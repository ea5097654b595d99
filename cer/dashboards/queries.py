"""Database reads of the dashboards: hourly sums computed by the database, as NumPy arrays.

When a point has several readings for the same hour, one source wins, in the order its
community chose (cer.metering.precedence; by default grid operator, device, manual entry,
estimate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db.models import Case, Count, Exists, IntegerField, Max, OuterRef, Sum, Value, When

from cer.dashboards.series import Wh
from cer.metering import precedence
from cer.metering.models import HourlyReading
from cercalc.periods import HOUR_S, Period

# Fixed numbering of the sources in PointSeries.source_index (not their precedence).
SOURCE_CODES: precedence.SourceOrder = precedence.DEFAULT_ORDER
_INDEX = {code: index for index, code in enumerate(SOURCE_CODES)}
NO_SOURCE = -1


def _rank_expression(order: precedence.SourceOrder) -> Case:
    rank = precedence.rank_of(order)
    return Case(
        *[When(source=code, then=Value(value)) for code, value in rank.items()],
        default=Value(len(rank)),
        output_field=IntegerField(),
    )


def _readings(point_ids: Sequence[int], start: dt.datetime, end: dt.datetime):
    return HourlyReading.objects.filter(
        connection_point_id__in=list(point_ids), hour_start__gte=start, hour_start__lt=end
    )


def _indices(stamps: Sequence[dt.datetime], first_s: int) -> npt.NDArray[np.int64]:
    seconds = np.fromiter((stamp.timestamp() for stamp in stamps), dtype=np.float64)
    return (seconds.astype(np.int64) - first_s) // HOUR_S


def configuration_hourly_wh(*, point_ids: Sequence[int], period: Period) -> tuple[Wh, Wh, bool]:
    """Return the points' injected and withdrawn energy summed per hour of the period [Wh].

    One GROUP BY (hour, source) query; only when some hour holds several sources are those
    hours summed again with the precedence rule, point by point, in the database. The
    third value tells whether that happened. The points belong to one community.
    """
    start, end = period.utc_bounds()
    first_s = int(start.timestamp())
    hours = period.hours
    injected = np.zeros(hours, dtype=np.int64)
    withdrawn = np.zeros(hours, dtype=np.int64)
    rows = list(
        _readings(point_ids, start, end)
        .values("hour_start", "source")
        .annotate(injected=Sum("injected_wh"), withdrawn=Sum("withdrawn_wh"))
        .order_by()
        .values_list("hour_start", "injected", "withdrawn")
    )
    if not rows:
        return injected, withdrawn, False
    stamps, inj, wdr = zip(*rows, strict=True)
    index = _indices(stamps, first_s)
    np.add.at(injected, index, np.array(inj, dtype=np.int64))
    np.add.at(withdrawn, index, np.array(wdr, dtype=np.int64))
    counts = np.bincount(index, minlength=hours)
    mixed = np.flatnonzero(counts > 1)
    if mixed.size:
        low = start + dt.timedelta(hours=int(mixed[0]))
        high = start + dt.timedelta(hours=int(mixed[-1]) + 1)
        order = precedence.order_of_points(point_ids)
        inj_m, wdr_m = _hourly_with_precedence(point_ids, low, high, first_s, hours, order)
        injected[mixed] = inj_m[mixed]
        withdrawn[mixed] = wdr_m[mixed]
    return injected, withdrawn, bool(mixed.size)


def _hourly_with_precedence(
    point_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    first_s: int,
    hours: int,
    order: precedence.SourceOrder,
) -> tuple[Wh, Wh]:
    """Sum per hour only the winning source of each point and hour."""
    better = (
        HourlyReading.objects.alias(rank=_rank_expression(order))
        .filter(
            connection_point_id=OuterRef("connection_point_id"),
            hour_start=OuterRef("hour_start"),
            rank__lt=OuterRef("rank"),
        )
        .values("pk")
    )
    rows = list(
        _readings(point_ids, start, end)
        .alias(rank=_rank_expression(order))
        .filter(~Exists(better))
        .values("hour_start")
        .annotate(injected=Sum("injected_wh"), withdrawn=Sum("withdrawn_wh"))
        .order_by()
        .values_list("hour_start", "injected", "withdrawn")
    )
    injected = np.zeros(hours, dtype=np.int64)
    withdrawn = np.zeros(hours, dtype=np.int64)
    if rows:
        stamps, inj, wdr = zip(*rows, strict=True)
        index = _indices(stamps, first_s)
        injected[index] = np.array(inj, dtype=np.int64)
        withdrawn[index] = np.array(wdr, dtype=np.int64)
    return injected, withdrawn


def present_hours_by_point(
    *, point_ids: Sequence[int], period: Period, several_sources: bool = True
) -> dict[int, int]:
    """Return, per point, how many hours of the period have at least one reading.

    With one source per hour (`several_sources` False) counting rows is enough, and much
    cheaper than counting distinct hours.
    """
    start, end = period.utc_bounds()
    hours = Count("hour_start", distinct=True) if several_sources else Count("*")
    return dict(
        _readings(point_ids, start, end)
        .values("connection_point_id")
        .annotate(hours=hours)
        .order_by()
        .values_list("connection_point_id", "hours")
    )


@dataclass(frozen=True)
class PointSeries:
    """One point's hourly readings over a period, the winning source per hour [Wh]."""

    injected_wh: Wh
    withdrawn_wh: Wh
    source_index: npt.NDArray[np.int8]  # winning source's index in SOURCE_CODES, or NO_SOURCE

    @property
    def present(self) -> npt.NDArray[np.bool_]:
        return self.source_index != NO_SOURCE


def point_series(*, point_ids: Sequence[int], period: Period) -> dict[int, PointSeries]:
    """Return each point's hourly series over the period, gaps marked, one source per hour.

    The rows are placed with NumPy: per point and hour, the row whose source ranks first in
    the point's community order wins (cer.metering.precedence).
    """
    start, end = period.utc_bounds()
    hours = period.hours
    ids = list(point_ids)
    injected = np.zeros((len(ids), hours), dtype=np.int64)
    withdrawn = np.zeros((len(ids), hours), dtype=np.int64)
    source_index = np.full((len(ids), hours), NO_SOURCE, dtype=np.int8)
    rows = list(
        _readings(ids, start, end).values_list(
            "connection_point_id", "hour_start", "source", "injected_wh", "withdrawn_wh"
        )
    )
    if rows:
        row_ids, stamps, sources, inj, wdr = zip(*rows, strict=True)
        row_of_id = {point_id: row for row, point_id in enumerate(ids)}
        point_rows = np.fromiter((row_of_id[i] for i in row_ids), dtype=np.int64, count=len(rows))
        columns = _indices(stamps, int(start.timestamp()))
        codes, code_of_row = np.unique(np.array(sources), return_inverse=True)
        sources_of_row = np.array([_INDEX[str(code)] for code in codes], dtype=np.int8)[code_of_row]
        # rank[point row, source index]: position of the source in the point's order.
        rank = np.empty((len(ids), len(SOURCE_CODES)), dtype=np.int64)
        orders = precedence.orders_by_point(ids)
        for point_id, row in row_of_id.items():
            point_order = orders.get(point_id, precedence.DEFAULT_ORDER)
            rank[row] = [point_order.index(code) for code in SOURCE_CODES]
        order = np.lexsort((rank[point_rows, sources_of_row], columns, point_rows))
        first = np.ones(order.size, dtype=bool)
        first[1:] = (point_rows[order][1:] != point_rows[order][:-1]) | (
            columns[order][1:] != columns[order][:-1]
        )
        won = order[first]
        cells = (point_rows[won], columns[won])
        injected[cells] = np.array(inj, dtype=np.int64)[won]
        withdrawn[cells] = np.array(wdr, dtype=np.int64)[won]
        source_index[cells] = sources_of_row[won]
    return {
        point_id: PointSeries(
            injected_wh=injected[row], withdrawn_wh=withdrawn[row], source_index=source_index[row]
        )
        for row, point_id in enumerate(ids)
    }


def latest_reading_at(point_ids: Sequence[int]) -> dt.datetime | None:
    """Return the start of the newest hour with a reading of any of the points."""
    return HourlyReading.objects.filter(connection_point_id__in=list(point_ids)).aggregate(
        newest=Max("hour_start")
    )["newest"]
