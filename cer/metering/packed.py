"""Closed months packed: one row per point, month and source instead of one per hour.

Settling a year of a thousand points reads 8.76 million hourly rows; the same readings
packed by month are twelve thousand rows of compressed arrays. The packed months
(`PackedMonth`) are a copy: the hourly rows stay the record that every listing, export and
the API read, and only the settlement's reader (cer/metering/series.py `_fetch`) uses the
copy, for the (point, month) pairs that have one, reading rows for the others.

Keeping the copy true:
- `pack_months` packs a month (Europe/Rome) only once it has ended, and `drop_touched`
  runs inside every write of readings (cer/metering/recording.py `write_hourly`): it drops
  the packed copies of the closed months the write touches, in the same transaction. A
  month written again is read from its rows until the packer runs again.
- The packer and a writer of the same (point, month) never overlap: on PostgreSQL both take
  a transaction-scoped advisory lock per pair, in the same order (point, then month), so
  the packer reads rows after any writer before it committed, and a writer after it drops
  what it packed. On SQLite every write transaction is IMMEDIATE (config/settings.py):
  they run one at a time.
- A point with no reading in a packed month keeps one row with an empty source, so the
  reader knows there is nothing to read for it.

`pack_closed_months` (a periodic job, cer/metering/periodic_jobs.py) packs what is missing
in the last thirteen months, a bounded number of points at a time.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction

from cer.metering.models import NOT_MEASURED_QUALITIES, HourlyReading, PackedMonth, ReadingSource
from cercalc import periods
from cercalc.periods import HOUR_S, ROME, Period

# The advisory-lock namespace of packed months (two-key form: this, then a key per pair).
_LOCK_CLASS = 0x43455250
_IDS_PER_QUERY = 500
# A month is packed once it has been over for this long: late device messages come first.
PACK_AFTER = dt.timedelta(days=2)
MONTHS_BACK = 13


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
    return zlib.compress(values.astype("<i8").tobytes(), 1)


def _unpack_values(blob: bytes | memoryview, count: int) -> npt.NDArray[np.int64]:
    return np.frombuffer(zlib.decompress(bytes(blob)), dtype="<i8", count=count).astype(np.int64)


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


def _month_columns(
    point_ids: list[int], start: dt.datetime, end: dt.datetime
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[str], npt.NDArray[np.int64]]:
    """Return the rows of the points in [start, end) as columns, in one query per slice.

    Columns: point, hour [unix s], source, then (injected, withdrawn, not measured) stacked
    as an (n, 3) array. Plain SQL: a month of a thousand points is 744,000 rows.
    """
    table = connection.ops.quote_name(HourlyReading._meta.db_table)
    qualities = ", ".join(f"'{code}'" for code in NOT_MEASURED_QUALITIES)
    estimated = ReadingSource.ESTIMATED.value
    epoch = (
        "CAST(EXTRACT(EPOCH FROM hour_start) AS BIGINT)"
        if connection.vendor == "postgresql"
        else "CAST(strftime('%%s', hour_start) AS INTEGER)"
    )
    adapt = connection.ops.adapt_datetimefield_value
    points: list[int] = []
    hours: list[int] = []
    sources: list[str] = []
    values: list[tuple[int, int, int]] = []
    for first in range(0, len(point_ids), _IDS_PER_QUERY):
        chunk = point_ids[first : first + _IDS_PER_QUERY]
        sql = (
            f"SELECT connection_point_id, {epoch}, source, injected_wh, withdrawn_wh, "  # noqa: S608 (fixed names)
            f"CASE WHEN quality IN ({qualities}) OR source = '{estimated}' THEN 1 ELSE 0 END "
            f"FROM {table} WHERE connection_point_id IN ({', '.join(['%s'] * len(chunk))}) "
            "AND hour_start >= %s AND hour_start < %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*chunk, adapt(start), adapt(end)])
            for point_id, hour_s, source, injected, withdrawn, flag in cursor.fetchall():
                points.append(point_id)
                hours.append(hour_s)
                sources.append(source)
                values.append((injected, withdrawn, flag))
    return (
        np.array(points, dtype=np.int64),
        np.array(hours, dtype=np.int64),
        sources,
        np.array(values, dtype=np.int64).reshape(-1, 3),
    )


def pack_months(point_ids: Sequence[int], month: Period, now: dt.datetime) -> int:
    """Pack the points' readings of one ended month; return how many rows were packed.

    Replaces the month's earlier packed copies of those points. Raises ValueError for a
    month that has not ended at `now`.
    """
    start, end = month.utc_bounds()
    if end > now:
        raise ValueError(f"month {month.key} has not ended: it cannot be packed")
    ids = sorted(set(point_ids))
    start_s = int(start.timestamp())
    hours = month.hours
    with transaction.atomic():
        _lock_pairs([(point_id, start_s) for point_id in ids])
        PackedMonth.objects.filter(connection_point_id__in=ids, month_start=start).delete()
        point, hour, sources, values = _month_columns(ids, start, end)
        codes = sorted(set(sources))
        number = {code: index for index, code in enumerate(codes)}
        source = np.array([number[code] for code in sources], dtype=np.int64)
        # Group the rows by (point, source): sort once, then cut where the key changes.
        order = np.lexsort((source, point))
        point, source, cell = point[order], source[order], (hour[order] - start_s) // HOUR_S
        values = values[order]
        cuts = np.flatnonzero((np.diff(point) != 0) | (np.diff(source) != 0)) + 1
        packed: list[PackedMonth] = []
        for group in np.split(np.arange(point.size), cuts) if point.size else []:
            key = (int(point[group[0]]), codes[int(source[group[0]])])
            injected, withdrawn, flags = values[group].T
            packed.append(
                _packed_row(key, start, hours, cell[group], injected, withdrawn, flags, now)
            )
        empty = np.zeros(0, dtype=np.int64)
        for point_id in sorted(set(ids) - set(point.tolist())):
            packed.append(
                _packed_row((point_id, ""), start, hours, empty, empty, empty, empty, now)
            )
        PackedMonth.objects.bulk_create(packed, batch_size=500)
    return sum(1 for row in packed if row.source)


def _packed_row(
    key: tuple[int, str],
    start: dt.datetime,
    hours: int,
    cells: npt.NDArray[np.int64],
    injected: npt.NDArray[np.int64],
    withdrawn: npt.NDArray[np.int64],
    not_measured: npt.NDArray[np.int64],
    now: dt.datetime,
) -> PackedMonth:
    present = np.zeros(hours, dtype=bool)
    present[cells] = True
    flags = np.zeros(hours, dtype=bool)
    flags[cells] = not_measured.astype(bool)
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
        packed_at=now,
    )


def drop_touched(
    point_ids: npt.NDArray[np.int64], hour_starts_s: npt.NDArray[np.int64], now: dt.datetime
) -> int:
    """Drop the packed copies of the ended months these rows fall in; call inside the write.

    Rows of a month that has not ended cannot touch a packed month: nothing is asked then.
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
    dropped = 0
    by_month: dict[int, list[int]] = {}
    for point_id, month_s in pairs:
        by_month.setdefault(month_s, []).append(point_id)
    for month_s, ids in by_month.items():
        moment = dt.datetime.fromtimestamp(month_s, tz=dt.UTC)
        for first in range(0, len(ids), _IDS_PER_QUERY):
            deleted, _ = PackedMonth.objects.filter(
                connection_point_id__in=ids[first : first + _IDS_PER_QUERY], month_start=moment
            ).delete()
            dropped += deleted
    return dropped


def pack_closed_months(now: dt.datetime, *, limit: int = 2000) -> int:
    """Pack up to `limit` (point, month) pairs of the last months that have rows but no copy."""
    from cer.plants.models import ConnectionPoint  # plants imports metering's models

    this_month = periods.month_of(now.astimezone(ROME).date())
    done = 0
    month = this_month
    for _ in range(MONTHS_BACK):
        month = month.previous()
        start, end = month.utc_bounds()
        if end + PACK_AFTER > now:
            continue
        missing = list(
            ConnectionPoint.objects.filter(
                pk__in=HourlyReading.objects.filter(
                    hour_start__gte=start, hour_start__lt=end
                ).values("connection_point_id")
            )
            .exclude(
                pk__in=PackedMonth.objects.filter(month_start=start).values("connection_point_id")
            )
            .order_by("pk")
            .values_list("pk", flat=True)[: limit - done]
        )
        for first in range(0, len(missing), _IDS_PER_QUERY):
            pack_months(missing[first : first + _IDS_PER_QUERY], month, now)
        done += len(missing)
        if done >= limit:
            break
    return done


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackedRead:
    """What the packed copies hold for some points over a span of hours.

    `covered` are the (point, month start [s]) pairs read from packed copies: their rows
    must not be read as well. The other fields are the readings as columns, one entry per
    (point, hour, source) with a reading, inside the span.
    """

    covered: set[tuple[int, int]]
    point_id: npt.NDArray[np.int64]
    hour_s: npt.NDArray[np.int64]
    source: npt.NDArray[np.int64]  # numbered as the caller's `source_numbers` say
    injected_wh: npt.NDArray[np.int64]
    withdrawn_wh: npt.NDArray[np.int64]
    not_measured: npt.NDArray[np.int64]


def read(
    point_ids: Sequence[int],
    start_s: int,
    end_s: int,
    *,
    source_numbers: Mapping[str, int],
    other_source: int,
) -> PackedRead:
    """Return the packed readings of the points in [start_s, end_s) and the pairs they cover.

    Sources come as numbers: `source_numbers[code]`, or `other_source` for a code not in it.
    """
    first_month_s = _month_start_s(start_s)
    lower = dt.datetime.fromtimestamp(first_month_s, tz=dt.UTC)
    upper = dt.datetime.fromtimestamp(end_s, tz=dt.UTC)
    ids = list(point_ids)
    covered: set[tuple[int, int]] = set()
    parts: list[tuple[npt.NDArray[Any], ...]] = []
    for first in range(0, len(ids), _IDS_PER_QUERY):
        rows = PackedMonth.objects.filter(
            connection_point_id__in=ids[first : first + _IDS_PER_QUERY],
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
        for point_id, month_start, count, source, present, flags, injected, withdrawn in rows:
            month_s = int(month_start.timestamp())
            covered.add((point_id, month_s))
            if source:
                # Whole months first; the hours outside the span are cut once, below.
                parts.append(
                    (
                        np.full(count, point_id, dtype=np.int64),
                        np.full(count, source_numbers.get(source, other_source), dtype=np.int64),
                        month_s + HOUR_S * np.arange(count, dtype=np.int64),
                        _unpack_values(injected, count),
                        _unpack_values(withdrawn, count),
                        _unbits(flags, count).astype(np.int64),
                        _unbits(present, count),
                    )
                )
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return PackedRead(covered, empty, empty, empty, empty, empty, empty)
    point, source_, hour, inj, wdr, flags_, present_ = (
        np.concatenate(column) for column in zip(*parts, strict=True)
    )
    keep = present_ & (hour >= start_s) & (hour < end_s)
    return PackedRead(
        covered, point[keep], hour[keep], source_[keep], inj[keep], wdr[keep], flags_[keep]
    )
