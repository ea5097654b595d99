"""Closed months packed: one row per point, month and source instead of one per hour.

A year of a thousand points is 8.76 million hourly rows (about 90 bytes each with their
indexes); packed by month it is twelve thousand rows of compressed arrays. Once a month has
ended and been packed, its hourly rows are deleted: closed months live only packed
(`PackedMonth`), and the row table keeps open months and corrections.

Keeping every reading, exactly once:
- `pack_months` packs a month (Europe/Rome) only once it has ended. In one transaction per
  batch of points it reads the month's rows, builds the packed rows, decodes them again and
  checks them equal to the rows read (values, quality, source, hours), stores them and
  deletes exactly the rows it read (the count is checked): a crash or a failed check leaves
  the rows as they were, never both copies and never neither.
- A write into a packed month unpacks first: `unpack_touched` runs inside every write of
  readings (cer/metering/recording.py `write_hourly`), puts the packed hours of the (point,
  month) pairs the write touches back into rows and deletes their packed rows, in the same
  transaction; the write then corrects the rows as in any open month, and the packer packs
  the month again later. So for each (point, month) the readings are either rows or packed,
  never both, and every reader (cer/metering/series.py) adds the two.
- The packer and a writer of the same (point, month) never overlap: on PostgreSQL both take
  a transaction-scoped advisory lock per pair, in the same order (point, then month). On
  SQLite every write transaction is IMMEDIATE (config/settings.py): they run one at a time.
- A point with no reading in a packed month keeps one row with an empty source, so the
  settlement reader knows there is no row to look for.

`pack_closed_months` (a periodic job, cer/metering/periodic_jobs.py) packs the (point,
month) pairs of ended months that have rows, a bounded number at a time.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models.functions import TruncMonth

from cer.core import deflate
from cer.metering import partitions, precedence
from cer.metering.models import (
    NOT_MEASURED_QUALITIES,
    HourlyReading,
    PackedMonth,
    ReadingQuality,
    ReadingSource,
)
from cercalc import periods
from cercalc.periods import HOUR_S, ROME, Period

# The advisory-lock namespace of packed months (two-key form: this, then a key per pair).
_LOCK_CLASS = 0x43455250
_IDS_PER_QUERY = 500
# A month is packed once it has been over for this long: late device messages come first.
PACK_AFTER = dt.timedelta(days=2)
# Fixed numbering of sources and qualities in packed columns (as cer/metering/series.py).
SOURCE_CODES: tuple[str, ...] = tuple(precedence.DEFAULT_ORDER)
QUALITY_CODES: tuple[str, ...] = tuple(ReadingQuality.values)
_QUALITY_OK = QUALITY_CODES.index(ReadingQuality.VALID.value)
_QUALITY_EST = QUALITY_CODES.index(ReadingQuality.ESTIMATED.value)
_NOT_MEASURED_INDICES = [QUALITY_CODES.index(code) for code in NOT_MEASURED_QUALITIES]
_ESTIMATED = ReadingSource.ESTIMATED.value


def _source_index(code: str) -> int:
    return SOURCE_CODES.index(code)


# --- months -----------------------------------------------------------------------------


def _month_start_s(when_s: int) -> int:
    """Return the UTC start [s] of the Europe/Rome month holding the instant `when_s`."""
    local = dt.datetime.fromtimestamp(when_s, tz=ROME)
    return periods.month(local.year, local.month).utc_bounds_s()[0]


def months_touching(start_s: int, end_s: int) -> list[Period]:
    """Return the Europe/Rome months that overlap the UTC span [start_s, end_s)."""
    first = dt.datetime.fromtimestamp(start_s, tz=ROME)
    last = dt.datetime.fromtimestamp(end_s - 1, tz=ROME)
    return Period(
        dt.date(first.year, first.month, 1), dt.date(last.year, last.month, 1) + dt.timedelta(1)
    ).months()


def _month_starts_of(hour_s: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return, for each hour [unix s], the UTC start of its Europe/Rome month."""
    if hour_s.size == 0:
        return hour_s
    bounds = np.array(
        [m.utc_bounds_s()[0] for m in months_touching(int(hour_s.min()), int(hour_s.max()) + 1)],
        dtype=np.int64,
    )
    return bounds[np.searchsorted(bounds, hour_s, side="right") - 1]


# --- packing ------------------------------------------------------------------------------


def _pack_values(values: npt.NDArray[np.int64]) -> bytes:
    return deflate.compress(values.astype("<i8").tobytes())


def _unpack_values(blob: bytes | memoryview, count: int) -> npt.NDArray[np.int64]:
    return np.frombuffer(deflate.decompress(blob), dtype="<i8", count=count).astype(np.int64)


def _bits(mask: npt.NDArray[np.bool_]) -> bytes:
    return np.packbits(mask).tobytes()


def _unbits(blob: bytes | memoryview, count: int) -> npt.NDArray[np.bool_]:
    return np.unpackbits(np.frombuffer(bytes(blob), dtype=np.uint8), count=count).astype(bool)


def _lock_pairs(pairs: Sequence[tuple[int, int]]) -> None:
    """Take the advisory locks of these (point, month start [s]) pairs, in order (PostgreSQL)."""
    if connection.vendor != "postgresql" or not pairs:
        return
    keys = sorted(set(pairs))
    # One key per pair within the namespace; two pairs sharing a key only wait for each other.
    objids = [((point_id * 7919 + month_s // HOUR_S) % 2**31) for point_id, month_s in keys]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM unnest(%s::int[]) AS k",
            [_LOCK_CLASS, objids],
        )


@dataclass(frozen=True)
class Columns:
    """Readings rows as columns (one entry per row)."""

    point: npt.NDArray[np.int64]
    hour_s: npt.NDArray[np.int64]
    source: npt.NDArray[np.int64]  # index in SOURCE_CODES
    quality: npt.NDArray[np.int64]  # index in QUALITY_CODES
    injected: npt.NDArray[np.int64]
    withdrawn: npt.NDArray[np.int64]

    NAMES = ("point", "hour_s", "source", "quality", "injected", "withdrawn")

    def masked(self, keep: npt.NDArray[np.bool_]) -> Columns:
        return Columns(*(getattr(self, name)[keep] for name in self.NAMES))


def _case(column: str, codes: Sequence[str]) -> str:
    """SQL numbering a column by its code's place in `codes` (fixed codes, no user input)."""
    whens = " ".join(f"WHEN '{code}' THEN {index}" for index, code in enumerate(codes))
    return f"CASE {column} {whens} ELSE -1 END"


def _month_columns(point_ids: list[int], start: dt.datetime, end: dt.datetime) -> Columns:
    """Return the rows of the points in [start, end) as columns, in one query per slice.

    Plain SQL of integers read straight into NumPy: a month of a thousand points is 744,000
    rows, never 744,000 model objects. The bounds on `hour_start` keep the read inside the
    month's partition (cer/metering/partitions.py).
    """
    table = connection.ops.quote_name(HourlyReading._meta.db_table)
    epoch = (
        "CAST(EXTRACT(EPOCH FROM hour_start) AS BIGINT)"
        if connection.vendor == "postgresql"
        else "CAST(strftime('%%s', hour_start) AS INTEGER)"
    )
    adapt = connection.ops.adapt_datetimefield_value
    parts: list[npt.NDArray[np.int64]] = []
    for first in range(0, len(point_ids), _IDS_PER_QUERY):
        chunk = point_ids[first : first + _IDS_PER_QUERY]
        sql = (
            f"SELECT connection_point_id, {epoch}, {_case('source', SOURCE_CODES)}, "  # noqa: S608 (fixed names)
            f"{_case('quality', QUALITY_CODES)}, injected_wh, withdrawn_wh "
            f"FROM {table} WHERE connection_point_id IN ({', '.join(['%s'] * len(chunk))}) "
            "AND hour_start >= %s AND hour_start < %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*chunk, adapt(start), adapt(end)])
            parts.append(
                np.fromiter(
                    itertools.chain.from_iterable(cursor.fetchall()), dtype=np.int64
                ).reshape(-1, 6)
            )
    flat = np.concatenate(parts) if parts else np.zeros((0, 6), dtype=np.int64)
    if (flat[:, 2] < 0).any() or (flat[:, 3] < 0).any():
        raise ValueError("a reading with an unknown source or quality code cannot be packed")
    return Columns(*(np.ascontiguousarray(flat[:, i]) for i in range(6)))


def _delete_rows(point_ids: list[int], start: dt.datetime, end: dt.datetime) -> int:
    """Delete the points' rows in [start, end); return how many were deleted."""
    table = connection.ops.quote_name(HourlyReading._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    deleted = 0
    for first in range(0, len(point_ids), _IDS_PER_QUERY):
        chunk = point_ids[first : first + _IDS_PER_QUERY]
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE connection_point_id IN "  # noqa: S608 (fixed names)
                f"({', '.join(['%s'] * len(chunk))}) AND hour_start >= %s AND hour_start < %s",
                [*chunk, adapt(start), adapt(end)],
            )
            deleted += cursor.rowcount
    return deleted


def pack_months(point_ids: Sequence[int], month: Period, now: dt.datetime) -> int:
    """Pack the points' readings of one ended month, delete their rows; return rows packed.

    Replaces the month's earlier packed rows of those points (there are none unless the
    month was packed and not written since). Raises ValueError for a month that has not
    ended at `now`, and RuntimeError (nothing changed) if the packed copy does not decode to
    the rows read or the rows deleted are not the rows read.
    """
    start, end = month.utc_bounds()
    if end > now:
        raise ValueError(f"month {month.key} has not ended: it cannot be packed")
    ids = sorted(set(point_ids))
    start_s = int(start.timestamp())
    hours = month.hours
    with transaction.atomic():
        _lock_pairs([(point_id, start_s) for point_id in ids])
        earlier = _packed_columns(
            PackedMonth.objects.filter(connection_point_id__in=ids, month_start=start)
        )
        rows = _month_columns(ids, start, end)
        already = set(earlier.point.tolist())
        if already & set(rows.point.tolist()):
            # A write unpacks a packed month before it writes rows: both cannot be there.
            raise RuntimeError(f"month {month.key} holds both rows and packed readings")
        ids = [point_id for point_id in ids if point_id not in already]  # packed, unchanged
        PackedMonth.objects.filter(connection_point_id__in=ids, month_start=start).delete()
        # Group the rows by (point, source): sort once, then cut where the key changes.
        order = np.lexsort((rows.source, rows.point))
        point, source = rows.point[order], rows.source[order]
        cell = (rows.hour_s[order] - start_s) // HOUR_S
        quality, injected, withdrawn = (
            rows.quality[order],
            rows.injected[order],
            rows.withdrawn[order],
        )
        if cell.size and (cell.min() < 0 or cell.max() >= hours):
            raise RuntimeError(f"a row outside month {month.key} was read")
        cuts = np.flatnonzero((np.diff(point) != 0) | (np.diff(source) != 0)) + 1
        packed: list[PackedMonth] = []
        for group in np.split(np.arange(point.size), cuts) if point.size else []:
            key = (int(point[group[0]]), SOURCE_CODES[int(source[group[0]])])
            packed.append(
                _packed_row(
                    key,
                    start,
                    hours,
                    cell[group],
                    injected[group],
                    withdrawn[group],
                    quality[group],
                    now,
                )
            )
        empty = np.zeros(0, dtype=np.int64)
        for point_id in sorted(set(ids) - set(point.tolist())):
            packed.append(
                _packed_row((point_id, ""), start, hours, empty, empty, empty, empty, now)
            )
        _verify(packed, rows, start_s)
        PackedMonth.objects.bulk_create(packed, batch_size=500)
        deleted = _delete_rows(ids, start, end)
        if deleted != rows.point.size:
            raise RuntimeError(
                f"month {month.key}: {deleted} rows deleted, {rows.point.size} packed"
            )
    return sum(1 for row in packed if row.source)


def _packed_row(
    key: tuple[int, str],
    start: dt.datetime,
    hours: int,
    cells: npt.NDArray[np.int64],
    injected: npt.NDArray[np.int64],
    withdrawn: npt.NDArray[np.int64],
    quality: npt.NDArray[np.int64],
    now: dt.datetime,
) -> PackedMonth:
    present = np.zeros(hours, dtype=bool)
    present[cells] = True
    codes = np.zeros(hours, dtype=np.uint8)
    codes[cells] = quality
    flags = np.zeros(hours, dtype=bool)
    flags[cells] = np.isin(quality, _NOT_MEASURED_INDICES) | (key[1] == _ESTIMATED)
    inj = np.zeros(hours, dtype=np.int64)
    inj[cells] = injected
    wdr = np.zeros(hours, dtype=np.int64)
    wdr[cells] = withdrawn
    return PackedMonth(
        connection_point_id=key[0],
        month_start=start,
        hour_count=hours,
        source=key[1],
        present=_bits(present),
        not_measured=_bits(flags),
        injected=_pack_values(inj),
        withdrawn=_pack_values(wdr),
        quality=deflate.compress(codes.tobytes()),
        packed_at=now,
    )


def _decode(row: PackedMonth | tuple[Any, ...]) -> tuple[Any, ...]:
    """Return (point, month start [s], source, hours [s], quality, injected, withdrawn) of
    the hours a packed row holds (its present hours only)."""
    if isinstance(row, PackedMonth):
        fields: tuple[Any, ...] = (
            row.connection_point_id,
            row.month_start,
            row.hour_count,
            row.source,
            row.present,
            row.not_measured,
            row.injected,
            row.withdrawn,
            row.quality,
        )
    else:
        fields = row
    point_id, month_start, count, source, present, flags, injected, withdrawn, quality = fields
    month_s = int(month_start.timestamp())
    keep = _unbits(present, count)
    if quality:
        codes = np.frombuffer(deflate.decompress(quality), dtype=np.uint8).astype(np.int64)
    else:  # packed before qualities were kept: measured or estimated is all that is known
        codes = np.where(_unbits(flags, count), _QUALITY_EST, _QUALITY_OK).astype(np.int64)
    return (
        point_id,
        month_s,
        source,
        (month_s + HOUR_S * np.arange(count, dtype=np.int64))[keep],
        codes[keep],
        _unpack_values(injected, count)[keep],
        _unpack_values(withdrawn, count)[keep],
    )


_FIELDS = (
    "connection_point_id",
    "month_start",
    "hour_count",
    "source",
    "present",
    "not_measured",
    "injected",
    "withdrawn",
    "quality",
)


def read_columns(
    point_ids: Sequence[int], start_s: int | None = None, end_s: int | None = None
) -> Columns:
    """Return every packed reading of the points whose hour is in [start_s, end_s).

    Without bounds, every packed reading of the points (the GDPR export).
    """
    bounds: dict[str, dt.datetime] = {}
    if start_s is not None:
        bounds["month_start__gte"] = dt.datetime.fromtimestamp(_month_start_s(start_s), tz=dt.UTC)
    if end_s is not None:
        bounds["month_start__lt"] = dt.datetime.fromtimestamp(end_s, tz=dt.UTC)
    ids = list(point_ids)
    parts = [
        _packed_columns(
            PackedMonth.objects.filter(
                connection_point_id__in=ids[first : first + _IDS_PER_QUERY], **bounds
            )
            .exclude(source="")
            .order_by()
        )
        for first in range(0, len(ids), _IDS_PER_QUERY)
    ]
    if not parts:
        return _packed_columns([])
    joined = Columns(
        *(np.concatenate([getattr(part, name) for part in parts]) for name in Columns.NAMES)
    )
    keep = np.ones(joined.hour_s.size, dtype=bool)
    if start_s is not None:
        keep &= joined.hour_s >= start_s
    if end_s is not None:
        keep &= joined.hour_s < end_s
    return joined.masked(keep)


def _month_rows(point_ids: Sequence[int], start_s: int, end_s: int, fields: Sequence[str]) -> Any:
    """Yield the packed rows (non-empty) of the points' months overlapping [start_s, end_s)."""
    lower = dt.datetime.fromtimestamp(_month_start_s(start_s), tz=dt.UTC)
    upper = dt.datetime.fromtimestamp(end_s, tz=dt.UTC)
    ids = list(point_ids)
    for first in range(0, len(ids), _IDS_PER_QUERY):
        yield from (
            PackedMonth.objects.filter(
                connection_point_id__in=ids[first : first + _IDS_PER_QUERY],
                month_start__gte=lower,
                month_start__lt=upper,
            )
            .exclude(source="")
            .order_by()
            .values_list(*fields)
            .iterator(chunk_size=2000)
        )


def _placed(month_start: dt.datetime, count: int, start_s: int, hours: int) -> tuple[slice, slice]:
    """Where a month's hours fall in a span of `hours` hours from `start_s`: (span, month)."""
    offset = (int(month_start.timestamp()) - start_s) // HOUR_S
    low, high = max(0, offset), min(hours, offset + count)
    return slice(low, max(low, high)), slice(low - offset, max(low, high) - offset)


def hourly_sums(
    point_ids: Sequence[int], start_s: int, hours: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Sum the points' packed energy per hour of a span; also which sources have each hour.

    Returns injected and withdrawn [Wh] per hour and a (len(SOURCE_CODES) + 1, hours) mask
    of the hours each source (by index; the last row for any other code) has a reading of.
    Hours without a reading are stored as 0, so whole months are added without expanding
    them into one entry per reading (a year of a thousand points is 8.76 million).
    """
    injected = np.zeros(hours, dtype=np.int64)
    withdrawn = np.zeros(hours, dtype=np.int64)
    has = np.zeros((len(SOURCE_CODES) + 1, hours), dtype=bool)
    fields = ("month_start", "hour_count", "source", "present", "injected", "withdrawn")
    for month_start, count, source, present, inj, wdr in _month_rows(
        point_ids, start_s, start_s + hours * HOUR_S, fields
    ):
        span, part = _placed(month_start, count, start_s, hours)
        if span.stop <= span.start:
            continue
        injected[span] += _unpack_values(inj, count)[part]
        withdrawn[span] += _unpack_values(wdr, count)[part]
        row = SOURCE_CODES.index(source) if source in SOURCE_CODES else len(SOURCE_CODES)
        has[row, span] |= _unbits(present, count)[part]
    return injected, withdrawn, has


def present_hours(
    point_ids: Sequence[int], start_s: int, hours: int, *, several_sources: bool
) -> dict[int, int]:
    """Per point, the hours of a span its packed months have a reading of.

    With `several_sources`, an hour with readings of several sources counts once; without,
    each reading counts (as counting rows does).
    """
    by_point: dict[tuple[int, dt.datetime], npt.NDArray[Any]] = {}
    fields = ("connection_point_id", "month_start", "hour_count", "present")
    for point_id, month_start, count, present in _month_rows(
        point_ids, start_s, start_s + hours * HOUR_S, fields
    ):
        _span, part = _placed(month_start, count, start_s, hours)
        mask = _unbits(present, count)[part].astype(np.int64)
        key = (point_id, month_start)
        if key in by_point:
            by_point[key] = (
                np.maximum(by_point[key], mask) if several_sources else by_point[key] + mask
            )
        else:
            by_point[key] = mask
    counts: dict[int, int] = {}
    for (point_id, _month), mask in by_point.items():
        counts[point_id] = counts.get(point_id, 0) + int(mask.sum())
    return counts


def latest_hour_s(point_ids: Sequence[int], *, known_s: int | None = None) -> int | None:
    """Return the start [s] of the newest packed hour of any of the points, if any.

    With `known_s` (the newest hour found elsewhere), a packed month that ends by then is
    not decoded: it cannot hold a newer hour.
    """
    ids = list(point_ids)
    newest: int | None = None
    for first in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[first : first + _IDS_PER_QUERY]
        last_month = (
            PackedMonth.objects.filter(connection_point_id__in=chunk)
            .exclude(source="")
            .order_by("-month_start")
            .values_list("month_start", "hour_count")
            .first()
        )
        if last_month is None:
            continue
        last, hour_count = last_month
        if known_s is not None and int(last.timestamp()) + hour_count * HOUR_S <= known_s:
            continue
        columns = _packed_columns(
            PackedMonth.objects.filter(connection_point_id__in=chunk, month_start=last)
        )
        if columns.hour_s.size:
            found = int(columns.hour_s.max())
            newest = found if newest is None else max(newest, found)
    return newest


def _packed_columns(rows: Any) -> Columns:
    """Decode packed rows (PackedMonth objects, or a queryset) into readings columns."""
    items = rows.values_list(*_FIELDS) if hasattr(rows, "values_list") else rows
    parts: list[tuple[npt.NDArray[np.int64], ...]] = []
    for item in items:
        point_id, _month_s, source, hour_s, quality, injected, withdrawn = _decode(item)
        if not source or hour_s.size == 0:
            continue
        parts.append(
            (
                np.full(hour_s.size, point_id, dtype=np.int64),
                hour_s,
                np.full(hour_s.size, _source_index(source), dtype=np.int64),
                quality,
                injected,
                withdrawn,
            )
        )
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Columns(empty, empty, empty, empty, empty, empty)
    return Columns(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _sorted(columns: Columns) -> npt.NDArray[np.int64]:
    """The columns as one (n, 6) array sorted by point, source and hour."""
    table = np.stack(
        [
            columns.point,
            columns.source,
            columns.hour_s,
            columns.quality,
            columns.injected,
            columns.withdrawn,
        ],
        axis=1,
    )
    return table[np.lexsort((table[:, 2], table[:, 1], table[:, 0]))]


def _verify(packed: list[PackedMonth], rows: Columns, start_s: int) -> None:
    """Raise RuntimeError unless the packed rows decode to exactly the rows read."""
    if not np.array_equal(_sorted(_packed_columns(packed)), _sorted(rows)):
        raise RuntimeError(
            f"the packed month from {start_s} does not decode to its rows: nothing packed"
        )


def unpack_touched(
    point_ids: npt.NDArray[np.int64], hour_starts_s: npt.NDArray[np.int64], now: dt.datetime
) -> int:
    """Put back into rows the packed months these rows fall in; call inside the write.

    For each (point, ended month) pair the write touches that is packed, every packed hour
    becomes a row again (as it was: energy, source, quality) and the packed rows are
    deleted, so the write that follows corrects rows as in an open month. Returns the rows
    put back. Rows of a month that has not ended cannot touch a packed month: nothing is
    asked then.
    """
    if point_ids.size == 0:
        return 0
    month_starts = _month_starts_of(hour_starts_s)
    current_start = _month_start_s(int(now.timestamp()))
    closed = month_starts < current_start
    if not closed.any():
        return 0
    pairs = sorted(set(zip(point_ids[closed].tolist(), month_starts[closed].tolist(), strict=True)))
    _lock_pairs(pairs)
    restored = 0
    by_month: dict[int, list[int]] = {}
    for point_id, month_s in pairs:
        by_month.setdefault(month_s, []).append(point_id)
    for month_s, ids in by_month.items():
        moment = dt.datetime.fromtimestamp(month_s, tz=dt.UTC)
        for first in range(0, len(ids), _IDS_PER_QUERY):
            chunk = PackedMonth.objects.filter(
                connection_point_id__in=ids[first : first + _IDS_PER_QUERY], month_start=moment
            )
            columns = _packed_columns(chunk)
            HourlyReading.objects.bulk_create(
                [
                    HourlyReading(
                        connection_point_id=point_id,
                        hour_start=dt.datetime.fromtimestamp(hour_s, tz=dt.UTC),
                        injected_wh=injected,
                        withdrawn_wh=withdrawn,
                        source=SOURCE_CODES[source],
                        quality=QUALITY_CODES[quality],
                    )
                    for point_id, hour_s, source, quality, injected, withdrawn in zip(
                        columns.point.tolist(),
                        columns.hour_s.tolist(),
                        columns.source.tolist(),
                        columns.quality.tolist(),
                        columns.injected.tolist(),
                        columns.withdrawn.tolist(),
                        strict=True,
                    )
                ],
                batch_size=1000,
            )
            chunk.delete()
            restored += columns.point.size
    return restored


def pack_closed_months(now: dt.datetime, *, limit: int = 2000) -> int:
    """Pack up to `limit` (point, month) pairs of ended months that still have rows.

    Only months ended for PACK_AFTER are considered (late device messages come first). The
    rows left are those of open months and of corrections, so finding them is cheap.
    """
    this_month = periods.month_of(now.astimezone(ROME).date())
    month = this_month.previous()
    if month.utc_bounds()[1] + PACK_AFTER > now:
        month = month.previous()
    cutoff = month.utc_bounds()[1]
    found = (
        HourlyReading.objects.filter(hour_start__lt=cutoff)
        .annotate(month=TruncMonth("hour_start", tzinfo=ROME))
        .values_list("month", "connection_point_id")
        .distinct()
        .order_by("month", "connection_point_id")[:limit]
    )
    by_month: dict[dt.date, list[int]] = {}
    for month_start, point_id in found:
        local = month_start.astimezone(ROME)
        by_month.setdefault(dt.date(local.year, local.month, 1), []).append(point_id)
    done = 0
    packed_months = []
    for first_day, ids in sorted(by_month.items()):
        each = periods.month(first_day.year, first_day.month)
        for first in range(0, len(ids), _IDS_PER_QUERY):
            pack_months(ids[first : first + _IDS_PER_QUERY], each, now)
        done += len(ids)
        packed_months.append(each)
    if done:
        # Rows moved from the months' partitions into packed rows: the planner's statistics
        # of both follow now rather than at autovacuum's next pass.
        partitions.analyze(packed_months, packed=True)
    return done


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridTarget:
    """Points x hours arrays that read_into fills (rows in the order of its `point_ids`)."""

    first_hour_s: int
    injected_wh: npt.NDArray[np.int64]
    withdrawn_wh: npt.NDArray[np.int64]
    source_index: npt.NDArray[np.int8]
    not_measured: npt.NDArray[np.bool_]


def read_into(
    target: GridTarget,
    point_ids: Sequence[int],
    *,
    source_numbers: Mapping[str, int],
    other_source: int,
    rank: Callable[[], npt.NDArray[np.int64]],
) -> set[tuple[int, int]]:
    """Write the winning packed readings of the points straight into `target`'s cells.

    The same winners as read_columns followed by a choice per cell, without the columns: a
    year of a thousand points is twelve thousand packed rows, and 8.8 million cells as
    columns cost more than the reading itself. Where a point's month holds several sources, they
    are written worst first, so the one ranked first (`rank()[row, source number]`, lower
    wins, asked for only then) is the one left in each cell. Returns the (point, month
    start [s]) pairs read: their rows must not be read as well.
    """
    hour_count = target.injected_wh.shape[1]
    first_hour_s = target.first_hour_s
    end_s = first_hour_s + HOUR_S * hour_count
    lower = dt.datetime.fromtimestamp(_month_start_s(first_hour_s), tz=dt.UTC)
    upper = dt.datetime.fromtimestamp(end_s, tz=dt.UTC)
    ids = list(point_ids)
    row_of_id = {point_id: row for row, point_id in enumerate(ids)}
    covered: set[tuple[int, int]] = set()
    # (row, month start [s]) -> its sources' packed rows; one each but where sources overlap.
    months: dict[tuple[int, int], list[list[Any]]] = {}
    for first in range(0, len(ids), _IDS_PER_QUERY):
        rows = PackedMonth.objects.filter(
            connection_point_id__among=ids[first : first + _IDS_PER_QUERY],
            month_start__gte=lower,
            month_start__lt=upper,
        ).values_list(
            "connection_point_id",
            "month_start",
            "hour_count",
            "source",
            "present",
            "not_measured",
            "injected",
            "withdrawn",
        )
        for point_id, month_start, *packed_month in rows:
            month_s = int(month_start.timestamp())
            covered.add((point_id, month_s))
            if packed_month[1]:  # an empty source: a month with no reading at all
                months.setdefault((row_of_id[point_id], month_s), []).append(packed_month)
    ranks: npt.NDArray[np.int64] | None = None
    # The usual case, one source for a point's month, is written a month of every point at
    # once (_write_month); only where sources overlap is each written in turn, worst first.
    single: dict[tuple[int, int], list[tuple[int, int, list[Any]]]] = {}
    for (row, month_s), sources in months.items():
        numbers = [source_numbers.get(source, other_source) for _, source, *_ in sources]
        if len(sources) == 1:
            single.setdefault((month_s, sources[0][0]), []).append((row, numbers[0], sources[0]))
            continue
        ranks = rank() if ranks is None else ranks
        order = sorted(range(len(sources)), key=lambda i: -ranks[row, numbers[i]])
        for index in order:
            _write_cells(target, row, month_s, numbers[index], sources[index])
    for (month_s, count), items in single.items():
        _write_month(target, month_s, count, items)
    return covered


def _write_cells(
    target: GridTarget, row: int, month_s: int, number: int, packed_month: list[Any]
) -> None:
    """Write one packed month of one source into its point's row, where it has readings."""
    count, _, present, flags, injected, withdrawn = packed_month
    lo, hi, columns = _overlap(target, month_s, count)
    if hi <= lo:
        return
    cells = (row, columns)
    have = _unbits(present, count)[lo:hi]
    np.copyto(target.injected_wh[cells], _unpack_values(injected, count)[lo:hi], where=have)
    np.copyto(target.withdrawn_wh[cells], _unpack_values(withdrawn, count)[lo:hi], where=have)
    np.copyto(target.source_index[cells], number, where=have, casting="unsafe")
    np.copyto(target.not_measured[cells], _unbits(flags, count)[lo:hi], where=have)


def _write_month(
    target: GridTarget, month_s: int, count: int, items: list[tuple[int, int, list[Any]]]
) -> None:
    """Write the packed rows of one month (`count` hours, one source a point) at once.

    The same cells as _write_cells on each item, with one array operation per column for
    all the points instead of eight per point: a year of a thousand points is twelve
    thousand packed rows.
    """
    lo, hi, columns = _overlap(target, month_s, count)
    if hi <= lo:
        return
    presents = [packed_month[2] for _, _, packed_month in items]
    flags = [packed_month[3] for _, _, packed_month in items]
    # Decompressing works outside the interpreter lock (cer.core.deflate): the two value
    # columns take a core each.
    with ThreadPoolExecutor(max_workers=1) as pool:
        injected_raw = pool.submit(_decompress_each, [item[2][4] for item in items])
        withdrawn = _decompress_each([item[2][5] for item in items])
        injected = injected_raw.result()
    rows = np.array([row for row, _, _ in items], dtype=np.intp)
    cells = (rows, columns)
    have = _unbits_rows(presents, count)[:, lo:hi]
    full = bool(have.all())  # the usual month: every hour read, nothing to keep
    numbers = np.array([number for _, number, _ in items], dtype=np.int64)
    writes = (
        (target.injected_wh, _values_rows(injected, count)[:, lo:hi]),
        (target.withdrawn_wh, _values_rows(withdrawn, count)[:, lo:hi]),
        (target.not_measured, _unbits_rows(flags, count)[:, lo:hi]),
        (
            target.source_index,
            numbers.astype(target.source_index.dtype, casting="unsafe")[:, None],
        ),
    )
    for array, values in writes:
        array[cells] = values if full else np.where(have, values, array[cells])


def _overlap(target: GridTarget, month_s: int, count: int) -> tuple[int, int, slice]:
    """The hours lo..hi of a packed month of `count` hours that the target's columns hold.

    Returns lo, hi (lo >= hi when none) and the target's columns for them.
    """
    offset = (month_s - target.first_hour_s) // HOUR_S
    lo, hi = max(0, -offset), min(count, target.injected_wh.shape[1] - offset)
    return lo, hi, slice(offset + lo, offset + hi)


def _decompress_each(blobs: list[Any]) -> list[bytes]:
    return [deflate.decompress(blob) for blob in blobs]


def _values_rows(raw: list[bytes], count: int) -> npt.NDArray[np.int64]:
    """Decompressed _pack_values blobs of `count` values each, as rows of one array."""
    return np.frombuffer(b"".join(raw), dtype="<i8").reshape(len(raw), count).astype(np.int64)


def _unbits_rows(blobs: list[Any], count: int) -> npt.NDArray[np.bool_]:
    """_bits blobs of `count` flags each, as rows of one array."""
    packed_bits = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), -1)
    return np.unpackbits(packed_bits, axis=1, count=count).astype(bool)
