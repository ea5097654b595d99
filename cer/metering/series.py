"""The one reader of hourly readings: the winning reading per point and hour, as NumPy arrays.

A point may hold readings of several sources for the same hour; one wins, the first in the
order its community chose (cer.metering.precedence; by default grid operator, device,
manual entry, estimate). `winning_readings` is the only place that applies that choice:
settlement sums from it, the dashboards place from it, so a statement and a dashboard can
never disagree on which reading counted.

The rows come in one SQL query of plain integers (never ORM objects per row); PostgreSQL
packs each point's series into binary arrays, its fast path. `readings_window` reads a long
span once (a year) and serves its periods (months) without reading again. The dashboards' sums
per hour are computed by the database and fall back to `winning_readings` only for the
hours where several sources meet.
"""

from __future__ import annotations

import datetime as dt
import itertools
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import Count, Max, QuerySet, Sum

from cer.metering import packed, precedence
from cer.metering.models import NOT_MEASURED_QUALITIES, HourlyReading, ReadingSource
from cercalc.periods import HOUR_S, ROME, Period

if TYPE_CHECKING:
    from cer.members.models import Member

Wh = npt.NDArray[np.int64]

# Fixed numbering of the sources in source_index arrays (not their precedence).
SOURCE_CODES: precedence.SourceOrder = precedence.DEFAULT_ORDER
NO_SOURCE = -1
# The index of a code stored behind the model's back: it ranks after every known source.
_OTHER = len(SOURCE_CODES)
_SQLITE_IDS_PER_QUERY = 500  # well under SQLite's limit on bound parameters
# Points x hours per PostgreSQL read: a month of 1,000 points in one query, a year in nine.
_CELLS_PER_QUERY = 1_000_000
_PG_EPOCH_S = 946_684_800  # 2000-01-01T00:00Z, the origin of PostgreSQL timestamps
_ARRAY_HEADER_BYTES = 20  # array_send of a one-dimensional array, before its elements


# --- the community's order ---------------------------------------------------------------


def orders_by_point(point_ids: Iterable[int]) -> dict[int, precedence.SourceOrder]:
    """Return the source order of each point's community (one query)."""
    from cer.plants.models import ConnectionPoint  # plants imports metering models

    rows = ConnectionPoint.objects.filter(pk__in=list(point_ids)).values_list(
        "pk", "configuration__community__reading_source_order"
    )
    return {point_id: precedence.stored_order(text) for point_id, text in rows}


def order_of_points(point_ids: Sequence[int]) -> precedence.SourceOrder:
    """Return the source order of the community of these points (all of one community)."""
    from cer.communities.models import Community

    text = (
        Community.objects.filter(configurations__connection_points__pk__in=list(point_ids)[:1])
        .values_list("reading_source_order", flat=True)
        .first()
    )
    return precedence.stored_order(text)


def order_of_community(community_id: int) -> precedence.SourceOrder:
    """Return the source order the community chose (the default if none is stored)."""
    from cer.communities.models import Community

    text = (
        Community.objects.filter(pk=community_id)
        .values_list("reading_source_order", flat=True)
        .first()
    )
    return precedence.stored_order(text)


# --- the winning reading -----------------------------------------------------------------


@dataclass(frozen=True)
class ReadingsGrid:
    """Points x hours of winning readings [Wh], and which source won each cell.

    `not_measured` marks the cells whose winning reading is an estimate (source or
    quality) or was interpolated across a gap: a settlement using them is provisional.
    """

    injected_wh: Wh
    withdrawn_wh: Wh
    source_index: npt.NDArray[np.int8]  # index in SOURCE_CODES, or NO_SOURCE
    not_measured: npt.NDArray[np.bool_]

    @property
    def present(self) -> npt.NDArray[np.bool_]:
        return self.source_index != NO_SOURCE


def winning_readings(
    *,
    point_ids: Sequence[int],
    first_hour_s: int,
    hour_count: int,
    order: precedence.SourceOrder | None = None,
) -> ReadingsGrid:
    """Return, per point (rows, in `point_ids` order) and hour, the reading that wins.

    The hours are `hour_count` consecutive UTC hours from `first_hour_s` [unix s]. Where
    a point has several sources for an hour, the first in `order` wins; without `order`,
    each point's community order is read.
    """
    ids = list(point_ids)
    injected = np.zeros((len(ids), hour_count), dtype=np.int64)
    withdrawn = np.zeros((len(ids), hour_count), dtype=np.int64)
    source_index = np.full((len(ids), hour_count), NO_SOURCE, dtype=np.int8)
    not_measured = np.zeros((len(ids), hour_count), dtype=bool)
    grid = ReadingsGrid(injected, withdrawn, source_index, not_measured)
    if not ids or not hour_count:
        return grid
    start = dt.datetime.fromtimestamp(first_hour_s, tz=dt.UTC)
    end = start + dt.timedelta(hours=hour_count)
    row_of_id = {point_id: row for row, point_id in enumerate(ids)}
    rank: npt.NDArray[np.int64] | None = None

    def ranks() -> npt.NDArray[np.int64]:
        nonlocal rank
        rank = _ranks(ids, order) if rank is None else rank
        return rank

    target = packed.GridTarget(first_hour_s, injected, withdrawn, source_index, not_measured)
    covered = packed.read_into(
        target,
        ids,
        source_numbers={code: index for index, code in enumerate(SOURCE_CODES)},
        other_source=_OTHER,
        rank=ranks,
    )
    for block in _fetch_rows_not_packed(ids, start, end, covered):
        row_of_point = [row_of_id.get(point_id, -1) for point_id in block.point_ids]
        rows = np.array(row_of_point, dtype=np.int64)[block.point_of_row]
        known = rows >= 0
        columns = (block.hour_s - first_hour_s) // HOUR_S
        if not known.all():
            rows, columns = rows[known], columns[known]
            block = block.masked(known)
        if block.sources.size and (block.sources == block.sources[0]).all():
            # One source in the block, which holds every row of its points: the unique
            # (point, hour, source) index leaves one row per cell, nothing to choose.
            cells: tuple[npt.NDArray[np.int64], ...] = (rows, columns)
            injected[cells] = block.injected_wh
            withdrawn[cells] = block.withdrawn_wh
            source_index[cells] = block.sources
            not_measured[cells] = block.not_measured != 0
            continue
        # Most trusted source first, then keep the first row of each (point, hour).
        by_rank = np.lexsort((ranks()[rows, block.sources], columns, rows))
        keys = rows[by_rank] * hour_count + columns[by_rank]
        first = np.ones(keys.size, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        won = by_rank[first]
        cells = (rows[won], columns[won])
        injected[cells] = block.injected_wh[won]
        withdrawn[cells] = block.withdrawn_wh[won]
        source_index[cells] = block.sources[won]
        not_measured[cells] = block.not_measured[won] != 0
    return grid


@dataclass(frozen=True)
class ReadingsWindow:
    """Winning readings read once over a span of hours, served for any period inside it.

    Settling a year month by month reads the year once (one packed read per point) and
    slices each month out of it; the winner of a point's hour does not depend on the span
    it was read with, so a slice equals what `winning_readings` returns for the month.
    """

    point_ids: tuple[int, ...]
    first_hour_s: int
    order: precedence.SourceOrder | None
    grid: ReadingsGrid

    def covers(
        self,
        *,
        point_ids: Sequence[int],
        first_hour_s: int,
        hour_count: int,
        order: precedence.SourceOrder | None,
    ) -> bool:
        """Tell whether the window holds these points and hours, read in the same order."""
        offset = first_hour_s - self.first_hour_s
        return (
            order == self.order
            and offset >= 0
            and offset % HOUR_S == 0
            and offset // HOUR_S + hour_count <= self.grid.injected_wh.shape[1]
            and set(point_ids) <= set(self.point_ids)
        )

    def part(self, *, point_ids: Sequence[int], first_hour_s: int, hour_count: int) -> ReadingsGrid:
        """Return the points' rows and the hours asked for, as a new grid (a copy)."""
        row_of_id = {point_id: row for row, point_id in enumerate(self.point_ids)}
        rows = np.array([row_of_id[point_id] for point_id in point_ids], dtype=np.intp)
        first = (first_hour_s - self.first_hour_s) // HOUR_S
        hours = slice(first, first + hour_count)
        return ReadingsGrid(
            injected_wh=self.grid.injected_wh[rows, hours],
            withdrawn_wh=self.grid.withdrawn_wh[rows, hours],
            source_index=self.grid.source_index[rows, hours],
            not_measured=self.grid.not_measured[rows, hours],
        )


def readings_window(
    *,
    point_ids: Sequence[int],
    first_hour_s: int,
    hour_count: int,
    order: precedence.SourceOrder | None = None,
) -> ReadingsWindow:
    """Read the winning readings of the points over the hours once, to slice later."""
    ids = tuple(point_ids)
    grid = winning_readings(
        point_ids=ids, first_hour_s=first_hour_s, hour_count=hour_count, order=order
    )
    return ReadingsWindow(point_ids=ids, first_hour_s=first_hour_s, order=order, grid=grid)


def _ranks(ids: list[int], order: precedence.SourceOrder | None) -> npt.NDArray[np.int64]:
    """Return rank[point row, source index]: the source's position in the point's order."""
    orders: Mapping[int, precedence.SourceOrder] = (
        orders_by_point(ids) if order is None else dict.fromkeys(ids, order)
    )
    rank = np.empty((len(ids), len(SOURCE_CODES) + 1), dtype=np.int64)
    for row, point_id in enumerate(ids):
        point_order = orders.get(point_id, precedence.DEFAULT_ORDER)
        rank[row, :_OTHER] = [point_order.index(code) for code in SOURCE_CODES]
        rank[row, _OTHER] = len(point_order)
    return rank


def _source_case() -> str:
    """SQL numbering the source column as SOURCE_CODES does (fixed codes, no user input)."""
    whens = " ".join(f"WHEN '{code}' THEN {index}" for index, code in enumerate(SOURCE_CODES))
    return f"CASE source {whens} ELSE {_OTHER} END"


def _not_measured_case() -> str:
    """SQL: 1 for an estimate or an interpolated reading, else 0 (fixed codes, no user input)."""
    qualities = ", ".join(f"'{code}'" for code in NOT_MEASURED_QUALITIES)
    return (
        f"CASE WHEN quality IN ({qualities}) OR source = '{ReadingSource.ESTIMATED.value}' "
        "THEN 1 ELSE 0 END"
    )


@dataclass(frozen=True)
class _Block:
    """Readings rows as columns; row i is a reading of point `point_ids[point_of_row[i]]`.

    A block holds every row its points have in the hours read, so the winner of each
    (point, hour) can be chosen inside it.
    """

    point_ids: list[int]
    point_of_row: npt.NDArray[np.int64]
    hour_s: npt.NDArray[np.int64]
    sources: npt.NDArray[np.int64]
    injected_wh: Wh
    withdrawn_wh: Wh
    not_measured: npt.NDArray[np.int64]  # 1 for an estimate or an interpolated reading

    def masked(self, keep: npt.NDArray[np.bool_]) -> _Block:
        return _Block(
            self.point_ids,
            self.point_of_row[keep],
            self.hour_s[keep],
            self.sources[keep],
            self.injected_wh[keep],
            self.withdrawn_wh[keep],
            self.not_measured[keep],
        )


def _fetch_rows_not_packed(
    ids: list[int], start: dt.datetime, end: dt.datetime, packed_pairs: set[tuple[int, int]]
) -> Iterator[_Block]:
    """Yield the rows of the points in [start, end), in blocks of whole points.

    `packed_pairs` are the (point, month start [s]) pairs read from packed copies
    (cer/metering/packed.py): they have no rows. The rest is read from the rows, month by
    month when some months are packed. Each block still holds every reading of its cells.
    """
    if not packed_pairs:
        yield from _fetch_rows(ids, start, end)
        return
    start_s, end_s = int(start.timestamp()), int(end.timestamp())
    for month in packed.months_touching(start_s, end_s):
        month_start_s, month_end_s = month.utc_bounds_s()
        rest = [point_id for point_id in ids if (point_id, month_start_s) not in packed_pairs]
        if rest:
            yield from _fetch_rows(
                rest,
                dt.datetime.fromtimestamp(max(start_s, month_start_s), tz=dt.UTC),
                dt.datetime.fromtimestamp(min(end_s, month_end_s), tz=dt.UTC),
            )


def _fetch_rows(ids: list[int], start: dt.datetime, end: dt.datetime) -> Iterator[_Block]:
    """Yield the stored rows of the points in [start, end), in blocks of whole points."""
    if connection.vendor == "postgresql":
        yield from _fetch_packed_postgresql(ids, start, end)
        return
    adapt = connection.ops.adapt_datetimefield_value
    table = HourlyReading._meta.db_table
    for first in range(0, len(ids), _SQLITE_IDS_PER_QUERY):
        chunk = ids[first : first + _SQLITE_IDS_PER_QUERY]
        sql = (
            "SELECT CAST(connection_point_id AS BIGINT), "  # noqa: S608 (fixed names)
            "CAST(strftime('%%s', hour_start) AS INTEGER), "
            f"CAST({_source_case()} AS BIGINT), CAST(injected_wh AS BIGINT), "
            f"CAST(withdrawn_wh AS BIGINT), CAST({_not_measured_case()} AS BIGINT) FROM {table} "
            f"WHERE connection_point_id IN ({', '.join(['%s'] * len(chunk))}) "
            "AND hour_start >= %s AND hour_start < %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*chunk, adapt(start), adapt(end)])
            flat = np.fromiter(
                itertools.chain.from_iterable(cursor.fetchall()), dtype=np.int64
            ).reshape(-1, 6)
        if flat.size:
            point_ids, point_of_row = np.unique(flat[:, 0], return_inverse=True)
            yield _Block(point_ids.tolist(), point_of_row, *flat[:, 1:].T)


def rows_sql_postgresql() -> str:
    """The query of `_fetch_packed_postgresql`; parameters: point ids (array), start, end."""
    table = HourlyReading._meta.db_table
    qualities = ", ".join(f"'{code}'" for code in NOT_MEASURED_QUALITIES)
    return (
        "SELECT connection_point_id, source, array_send(array_agg(hour_start)), "  # noqa: S608
        "array_send(array_agg(withdrawn_wh)), "
        "array_send(array_agg(hour_start) FILTER (WHERE injected_wh <> 0)), "
        "array_send(array_agg(injected_wh) FILTER (WHERE injected_wh <> 0)), "
        f"array_send(array_agg(hour_start) FILTER (WHERE quality IN ({qualities}))) "
        f"FROM {table} WHERE connection_point_id = ANY(%s) "
        "AND hour_start >= %s AND hour_start < %s GROUP BY connection_point_id, source"
    )


def _fetch_packed_postgresql(
    ids: list[int], start: dt.datetime, end: dt.datetime
) -> Iterator[_Block]:
    """The same rows, packed into binary arrays: one result row per point and source.

    A month of 1,000 points crosses the wire as 1,000 rows instead of 720,000, and NumPy
    reads each array without a Python object per value. One index scan serves all the
    points of a query, grouped as the index sorts them (by point, then by source inside
    each point): the server keeps one group at a time and computes little per row. The
    aggregates of one group see its rows in the same order, so the arrays line up. The
    source comes as stored and is numbered here; injected energy comes only where it is
    not zero, with its hours (most points never inject), and which hours are not measured
    comes as the hours of the rows whose quality says so (usually none); every row of the
    estimate source counts as not measured. (Before, a per-point LATERAL scan that
    numbered the source and the quality row by row cost the server twice as much.)
    Results come in binary, which Django's cursors (client-side binding) cannot ask for,
    hence a plain psycopg cursor on its connection.
    Points are read in slices of about _CELLS_PER_QUERY cells to bound memory.
    """
    import psycopg  # the PostgreSQL driver, present whenever this path runs

    sql = rows_sql_postgresql()
    index_of_source = {code: index for index, code in enumerate(SOURCE_CODES)}
    estimated = index_of_source[ReadingSource.ESTIMATED.value]
    hours = max(1, int((end - start).total_seconds()) // HOUR_S)
    step = max(1, _CELLS_PER_QUERY // hours)
    connection.ensure_connection()
    for first in range(0, len(ids), step):
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, [ids[first : first + step], start, end], binary=True)
            rows = cursor.fetchall()
        if not rows:
            continue
        stamps = [_array_values(row[2]) for row in rows]
        counts = [values.size for values in stamps]
        sources = [index_of_source.get(row[1], _OTHER) for row in rows]
        yield _Block(
            point_ids=[int(row[0]) for row in rows],  # a point once per source it has
            point_of_row=np.repeat(np.arange(len(rows), dtype=np.int64), counts),
            hour_s=np.concatenate(stamps) // 1_000_000 + _PG_EPOCH_S,
            sources=np.repeat(np.array(sources, dtype=np.int64), counts),
            injected_wh=np.concatenate(
                [
                    _at_hours(values, row[4], row[5])
                    for row, values in zip(rows, stamps, strict=True)
                ]
            ),
            withdrawn_wh=np.concatenate([_array_values(row[3]) for row in rows]),
            not_measured=np.concatenate(
                [
                    np.ones(values.size, dtype=np.int64)
                    if source == estimated
                    else _at_hours(values, row[6], None)
                    for row, source, values in zip(rows, sources, stamps, strict=True)
                ]
            ),
        )


def _at_hours(
    stamps: npt.NDArray[np.int64], hours: bytes | None, values: bytes | None
) -> npt.NDArray[np.int64]:
    """Spread values known at some of a group's hours over its rows, 0 elsewhere.

    `stamps` are the group's hours row by row; `hours` (packed) the hours that have a value,
    in the same row order, and `values` (packed) their values, or 1 for each if None. An
    aggregate with a FILTER that keeps no row gives NULL: every row is 0.
    """
    out = np.zeros(stamps.size, dtype=np.int64)
    if hours is None:
        return out
    where = np.isin(stamps, _array_values(hours))
    out[where] = 1 if values is None else _array_values(values)
    return out


def _array_values(packed: bytes) -> npt.NDArray[np.int64]:
    """Return the values of a one-dimensional int8 or timestamp array packed by array_send.

    The packing: number of dimensions, NULL flag and element type (three int32), the
    dimension's size and lower bound (two int32), then each element as its length (int32)
    and its big-endian value. A timestamp is microseconds since 2000-01-01 UTC.
    """
    dimensions, has_null = struct.unpack_from(">ii", packed)
    if dimensions != 1 or has_null:
        raise ValueError("expected a one-dimensional array without NULLs")
    layout = np.dtype([("length", ">i4"), ("value", ">i8")])
    return np.frombuffer(packed, dtype=layout, offset=_ARRAY_HEADER_BYTES)["value"].astype(np.int64)


# --- per point ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PointSeries:
    """One point's hourly readings over a period, the winning source per hour [Wh]."""

    injected_wh: Wh
    withdrawn_wh: Wh
    source_index: npt.NDArray[np.int8]  # winning source's index in SOURCE_CODES, or NO_SOURCE
    not_measured: npt.NDArray[np.bool_]  # estimated or interpolated across a gap

    @property
    def present(self) -> npt.NDArray[np.bool_]:
        return self.source_index != NO_SOURCE


def point_series(*, point_ids: Sequence[int], period: Period) -> dict[int, PointSeries]:
    """Return each point's hourly series over the period, gaps marked, one source per hour.

    Per point and hour, the row whose source ranks first in the point's community order
    wins (`winning_readings`).
    """
    ids = list(point_ids)
    start, _ = period.utc_bounds()
    grid = winning_readings(
        point_ids=ids, first_hour_s=int(start.timestamp()), hour_count=period.hours
    )
    return series_by_point(grid, ids)


def series_by_point(grid: ReadingsGrid, point_ids: Sequence[int]) -> dict[int, PointSeries]:
    """Return the rows of a grid (read for `point_ids`, in that order) as series per point."""
    ids = list(point_ids)
    return {
        point_id: PointSeries(
            injected_wh=grid.injected_wh[row],
            withdrawn_wh=grid.withdrawn_wh[row],
            source_index=grid.source_index[row],
            not_measured=grid.not_measured[row],
        )
        for row, point_id in enumerate(ids)
    }


# --- per configuration -------------------------------------------------------------------


def _readings(point_ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> QuerySet:
    return HourlyReading.objects.filter(
        connection_point_id__in=list(point_ids), hour_start__gte=start, hour_start__lt=end
    )


def _indices(stamps: Sequence[dt.datetime], first_s: int) -> npt.NDArray[np.int64]:
    seconds = np.fromiter((stamp.timestamp() for stamp in stamps), dtype=np.float64)
    return (seconds.astype(np.int64) - first_s) // HOUR_S


def configuration_hourly_wh(*, point_ids: Sequence[int], period: Period) -> tuple[Wh, Wh, bool]:
    """Return the points' injected and withdrawn energy summed per hour of the period [Wh].

    One GROUP BY (hour, source) query over the rows, plus the packed months (closed months
    live packed, cer/metering/packed.py); only when some hour holds several sources are the
    winning readings of those hours read (`winning_readings`) and summed again. The third
    value tells whether that happened. The points belong to one community.
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
        .values_list("hour_start", "source", "injected", "withdrawn")
    )
    index_of_source = {code: index for index, code in enumerate(SOURCE_CODES)}
    has_rows: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None
    if rows:
        stamps, codes, inj, wdr = zip(*rows, strict=True)
        index = _indices(stamps, first_s)
        np.add.at(injected, index, np.array(inj, dtype=np.int64))
        np.add.at(withdrawn, index, np.array(wdr, dtype=np.int64))
        sources = np.array([index_of_source.get(code, _OTHER) for code in codes], dtype=np.int64)
        has_rows = (sources, index)
    packed_injected, packed_withdrawn, has = packed.hourly_sums(point_ids, first_s, hours)
    injected += packed_injected
    withdrawn += packed_withdrawn
    if has_rows is not None:
        has[has_rows] = True
    if has_rows is None and not has.any():
        return injected, withdrawn, False
    # An hour holding several sources (in rows, packed, or one in each) needs the winners.
    counts = has.sum(axis=0)
    mixed = np.flatnonzero(counts > 1)
    if mixed.size:
        low, high = int(mixed[0]), int(mixed[-1]) + 1
        winners = winning_readings(
            point_ids=point_ids,
            first_hour_s=first_s + low * HOUR_S,
            hour_count=high - low,
            order=order_of_points(point_ids),
        )
        injected[mixed] = winners.injected_wh.sum(axis=0)[mixed - low]
        withdrawn[mixed] = winners.withdrawn_wh.sum(axis=0)[mixed - low]
    return injected, withdrawn, bool(mixed.size)


def present_hours_by_point(
    *, point_ids: Sequence[int], period: Period, several_sources: bool = True
) -> dict[int, int]:
    """Return, per point, how many hours of the period have at least one reading.

    With one source per hour (`several_sources` False) counting rows is enough, and much
    cheaper than counting distinct hours. Hours of packed months are counted from their
    packed rows (a point's month is either rows or packed, never both).
    """
    start, end = period.utc_bounds()
    hours = Count("hour_start", distinct=True) if several_sources else Count("*")
    present = dict(
        _readings(point_ids, start, end)
        .values("connection_point_id")
        .annotate(hours=hours)
        .order_by()
        .values_list("connection_point_id", "hours")
    )
    in_packed = packed.present_hours(
        point_ids, int(start.timestamp()), period.hours, several_sources=several_sources
    )
    for point_id, count in in_packed.items():
        present[point_id] = present.get(point_id, 0) + count
    return present


# --- newest readings, listings -----------------------------------------------------------


def latest_reading_at(point_ids: Sequence[int]) -> dt.datetime | None:
    """Return the start of the newest hour with a reading of any of the points."""
    newest = _newest_row_hour(list(point_ids))
    # Rows hold open months and corrections, which are usually the newest; a point whose
    # newest readings are all packed (silent since a closed month) is found here.
    packed_s = packed.latest_hour_s(
        point_ids, known_s=None if newest is None else int(newest.timestamp())
    )
    if packed_s is not None:
        moment = dt.datetime.fromtimestamp(packed_s, tz=dt.UTC)
        newest = moment if newest is None else max(newest, moment)
    return newest


def _newest_row_hour(point_ids: list[int]) -> dt.datetime | None:
    """The newest hour of the points' rows.

    On PostgreSQL, one probe of the (point, hour) index per point and partition: a MAX over
    the hour index would walk back through the newest rows of every other point of the
    table until one of these turns up, a cost that follows the table, not the points.
    """
    if connection.vendor != "postgresql":
        newest: dt.datetime | None = HourlyReading.objects.filter(
            connection_point_id__in=point_ids
        ).aggregate(newest=Max("hour_start"))["newest"]
        return newest
    with connection.cursor() as cursor:
        cursor.execute(NEWEST_ROW_SQL, [point_ids])
        return cursor.fetchone()[0]


NEWEST_ROW_SQL = (
    "SELECT max(newest.hour_start) FROM unnest(%s::bigint[]) AS point(id) "  # noqa: S608
    f"CROSS JOIN LATERAL (SELECT hour_start FROM {HourlyReading._meta.db_table} "
    "WHERE connection_point_id = point.id ORDER BY hour_start DESC LIMIT 1) AS newest"
)


def latest_year_with_readings(point_ids: list[int]) -> int | None:
    """Return the Europe/Rome year of the newest reading of these points, if any."""
    newest = latest_reading_at(point_ids)
    return newest.astimezone(ROME).year if newest else None


def point_readings(
    *, point_id: int, start: dt.datetime, end: dt.datetime, source: str | None = None
) -> list[HourlyReading]:
    """Return the point's readings (every source, or one) whose hour is in [start, end).

    Rows and packed months alike, ordered by hour and source; packed hours come as unsaved
    HourlyReading objects (no id), with their energy, source and quality as stored.
    """
    readings = HourlyReading.objects.filter(connection_point_id=point_id).between(start, end)
    if source is not None:
        readings = readings.filter(source=source)
    found = list(readings)
    copies = packed.read_columns([point_id], int(start.timestamp()), int(end.timestamp()))
    found += [
        reading
        for reading in _unsaved(copies, point_id)
        if source is None or reading.source == source
    ]
    return sorted(found, key=lambda reading: (reading.hour_start, reading.source))


def _unsaved(copies: packed.Columns, point_id: int) -> list[HourlyReading]:
    """The packed readings of one point as unsaved HourlyReading objects."""
    mine = copies.masked(copies.point == point_id)
    return [
        HourlyReading(
            connection_point_id=point_id,
            hour_start=dt.datetime.fromtimestamp(hour_s, tz=dt.UTC),
            injected_wh=injected,
            withdrawn_wh=withdrawn,
            source=packed.SOURCE_CODES[source],
            quality=packed.QUALITY_CODES[quality],
        )
        for hour_s, source, quality, injected, withdrawn in zip(
            mine.hour_s.tolist(),
            mine.source.tolist(),
            mine.quality.tolist(),
            mine.injected.tolist(),
            mine.withdrawn.tolist(),
            strict=True,
        )
    ]


HOLDER_READING_FIELDS = [
    "connection_point__pod",
    "hour_start",
    "injected_wh",
    "withdrawn_wh",
    "source",
    "quality",
]


def holder_readings(*, member: Member) -> list[dict[str, Any]]:
    """Return every stored reading of the member's points, one dict per hour and source.

    Rows and packed months alike (GDPR export), ordered by POD, hour and source.
    """
    from cer.plants.models import ConnectionPoint  # plants imports metering models

    rows = list(
        HourlyReading.objects.filter(connection_point__holder=member)
        .order_by("connection_point__pod", "hour_start", "source")
        .values_list(*HOLDER_READING_FIELDS)
    )
    pods = dict(ConnectionPoint.objects.filter(holder=member).values_list("pk", "pod"))
    copies = packed.read_columns(sorted(pods))
    for point_id, pod in pods.items():
        rows += [
            (pod, r.hour_start, r.injected_wh, r.withdrawn_wh, r.source, r.quality)
            for r in _unsaved(copies, point_id)
        ]
    rows.sort(key=lambda row: (row[0], row[1], row[4]))
    return [dict(zip(HOLDER_READING_FIELDS, values, strict=True)) for values in rows]
