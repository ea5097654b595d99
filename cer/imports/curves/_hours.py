"""The shared machinery of the load-curve readers: result types and hourly aggregation.

Every file family (edistribuzione, mapped, sii) reads its rows into the same partial
sums per (point, UTC hour, quantity): day rows go through _DayRows and _flush_day_rows,
one-interval rows through _read_interval_rows and _IntervalReader. aggregate_hours()
then turns the partial sums into whole hours, rounded half-up to Wh. The header, date
and POD helpers here are shared by the families (and, through the package, by prices).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from cer.imports import numbers, timeaxis
from cercalc import money
from cercalc.money import TextStatus

WITHDRAWN = 0
INJECTED = 1
QUANTITY_NAMES = {WITHDRAWN: "withdrawn", INJECTED: "injected"}

KWH_DIGITS = 6  # kWh -> mWh
WH_DIGITS = 3  # Wh -> mWh

_CHUNK_ROWS = 20_000  # day rows per vectorised batch (about 2 million values)
_CHUNK_LONG = 200_000  # interval rows per vectorised batch
_RAW_LIMIT = 500  # characters of a rejected line kept for the report

POD_RE = re.compile(r"^IT\d{3}E\d{8,9}$")


class FileRefused(ValueError):
    """The file as a whole cannot be read: unknown layout, wrong or missing header columns."""


@dataclass(frozen=True)
class Rejection:
    """One refused line (or hour), with the field at fault and why."""

    line: int
    field: str
    reason: str
    raw: str = ""


@dataclass(frozen=True)
class CurveParse:
    """Energies read from one file, as partial sums per (point, UTC hour, quantity).

    A day row gives complete hours (60 minutes each); an interval row gives one
    quarter-hour. aggregate_hours() combines them and refuses incomplete hours.
    """

    point_id: npt.NDArray[np.int64]
    hour_start_s: npt.NDArray[np.int64]  # UTC hour start [s since the epoch]
    quantity: npt.NDArray[np.int8]  # WITHDRAWN or INJECTED
    energy_mwh: npt.NDArray[np.int64]  # [mWh]
    minutes: npt.NDArray[np.int32]  # minutes of the hour covered by this partial sum
    first_line: npt.NDArray[np.int32]
    rejections: tuple[Rejection, ...]
    data_lines: int
    ignored_lines: int
    layout: str

    @property
    def rejected_lines(self) -> int:
        return len({r.line for r in self.rejections})


@dataclass(frozen=True)
class HourlyCurves:
    """Hourly energies per point [Wh]; a quantity absent from the file has its flag False."""

    point_id: npt.NDArray[np.int64]
    hour_start_s: npt.NDArray[np.int64]
    injected_wh: npt.NDArray[np.int64]
    withdrawn_wh: npt.NDArray[np.int64]
    has_injected: npt.NDArray[np.bool_]
    has_withdrawn: npt.NDArray[np.bool_]
    rejections: tuple[Rejection, ...]  # incomplete or over-full hours

    def __len__(self) -> int:
        return int(self.point_id.size)


# ---------------------------------------------------------------------------- hourly aggregation


def aggregate_hours(parse: CurveParse) -> HourlyCurves:
    """Sum partial energies into whole UTC hours and round each hour half-up to Wh.

    An hour of a quantity is kept only with exactly 60 minutes of data: fewer means
    missing intervals, more means duplicate rows; either way the hour is rejected, with
    the first line that contributed to it.
    """
    if parse.point_id.size == 0:
        empty = np.zeros(0, np.int64)
        return HourlyCurves(empty, empty, empty, empty, empty.astype(bool), empty.astype(bool), ())
    hour_index = parse.hour_start_s // 3600
    key = (parse.point_id << 22 | hour_index - _HOUR_BASE) << 1 | parse.quantity.astype(np.int64)
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]
    starts = np.flatnonzero(np.concatenate(([True], key_sorted[1:] != key_sorted[:-1])))
    energy = np.add.reduceat(parse.energy_mwh[order], starts)
    minutes = np.add.reduceat(parse.minutes[order].astype(np.int64), starts)
    first_line = np.minimum.reduceat(parse.first_line[order], starts)
    group_key = key_sorted[starts]

    complete = minutes == 60
    rejections = []
    for index in np.flatnonzero(~complete).tolist():
        group = int(group_key[index])
        quantity = QUANTITY_NAMES[group & 1]
        hour_s = ((group >> 1) % (1 << 22) + _HOUR_BASE) * 3600
        problem = "duplicate or overlapping rows" if minutes[index] > 60 else "missing intervals"
        rejections.append(
            Rejection(
                line=int(first_line[index]),
                field=quantity,
                reason=(
                    f"hour {timeaxis.format_utc(hour_s)}: {minutes[index]} minutes of "
                    f"{quantity} energy instead of 60 ({problem}); the hour is not imported"
                ),
            )
        )
    group_key = group_key[complete]
    energy_wh = (energy[complete] + 500) // 1000  # half-up: energies are never negative
    point_hour = group_key >> 1
    is_injected = (group_key & 1).astype(bool)
    unique_ph, position = np.unique(point_hour, return_inverse=True)
    size = unique_ph.size
    injected = np.zeros(size, np.int64)
    withdrawn = np.zeros(size, np.int64)
    has_injected = np.zeros(size, bool)
    has_withdrawn = np.zeros(size, bool)
    injected[position[is_injected]] = energy_wh[is_injected]
    has_injected[position[is_injected]] = True
    withdrawn[position[~is_injected]] = energy_wh[~is_injected]
    has_withdrawn[position[~is_injected]] = True
    return HourlyCurves(
        point_id=unique_ph >> 22,
        hour_start_s=(unique_ph % (1 << 22) + _HOUR_BASE) * 3600,
        injected_wh=injected,
        withdrawn_wh=withdrawn,
        has_injected=has_injected,
        has_withdrawn=has_withdrawn,
        rejections=tuple(rejections),
    )


# Hours are packed as an offset from 2000-01-01 in 22 bits (478 years).
_HOUR_BASE = 946_684_800 // 3600


# ---------------------------------------------------------------------------- shared pieces


@dataclass
class _Output:
    """Partial sums and rejections gathered while reading one file."""

    arrays: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    data_lines: int = 0
    ignored_lines: int = 0

    def add(self, point, hour_s, quantity, energy, minutes, line) -> None:
        self.arrays.append(
            (
                np.asarray(point, np.int64),
                np.asarray(hour_s, np.int64),
                np.asarray(quantity, np.int8),
                np.asarray(energy, np.int64),
                np.asarray(minutes, np.int32),
                np.asarray(line, np.int32),
            )
        )

    def reject(self, line: int, field_name: str, reason: str, raw: str = "") -> None:
        self.rejections.append(Rejection(line, field_name, reason, raw[:_RAW_LIMIT]))

    def result(self, layout: str) -> CurveParse:
        if self.arrays:
            columns = [np.concatenate(parts) for parts in zip(*self.arrays, strict=True)]
        else:
            columns = [np.zeros(0, dtype) for dtype in (np.int64, np.int64, np.int8, np.int64)]
            columns += [np.zeros(0, np.int32), np.zeros(0, np.int32)]
        point, hour, quantity, energy, minutes, line = columns
        return CurveParse(
            point_id=point,
            hour_start_s=hour,
            quantity=quantity,
            energy_mwh=energy,
            minutes=minutes,
            first_line=line,
            rejections=tuple(sorted(self.rejections, key=lambda r: r.line)),
            data_lines=self.data_lines,
            ignored_lines=self.ignored_lines,
            layout=layout,
        )


def decode_text(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without BOM), else Windows-1252 as Excel writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def normalise_header(text: str) -> str:
    """Lower-case, drop accents, quotes and units in brackets, collapse spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    plain = re.sub(r"[\(\[].*?[\)\]]", " ", plain.lower().replace('"', " "))
    return re.sub(r"\s+", " ", plain).strip(" :")


def _unit_of(headers: Iterable[str]) -> str | None:
    for header in headers:
        low = header.lower()
        if re.search(r"\bkwh\b", low):
            return "kWh"
        if re.search(r"\bwh\b", low):
            return "Wh"
    return None


def _pod_problem(pod: str, pod_ids: Mapping[str, int]) -> str | None:
    if not POD_RE.match(pod):
        return f'"{pod}" is not a POD code (IT, 3 digits, E, 8 or 9 digits)'
    if pod not in pod_ids:
        return f"POD {pod} is not a connection point of this community"
    return None


def _clean_pod(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def _sniff_delimiter(line: str) -> str:
    counts = {sep: line.count(sep) for sep in (";", "\t", ",", "|")}
    return max(counts, key=lambda sep: counts[sep]) if max(counts.values()) else ";"


_DATE_RE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+0?0[:.]00(?:[:.]00)?)?$")


@lru_cache(maxsize=8192)
def parse_italian_date(text: str) -> dt.date | None:
    """Read dd/mm/yyyy (also with - or . and an Excel " 00:00:00" tail); None if invalid."""
    match = _DATE_RE.match(text.strip())
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


# ---------------------------------------------------------------------------- day rows


@dataclass(frozen=True)
class _Slots:
    """The value columns of a day row: clock times (start minute) or interval numbers."""

    labels: tuple[str, ...]
    mode: str  # "clock" or "index"
    keys: tuple[int, ...]  # start minute of day (clock) or 1-based number (index)
    step_minutes: int

    @property
    def count(self) -> int:
        return len(self.keys)


_CLOCK_RE = re.compile(
    r"^(?:ore\s*)?(\d{1,2})[:.](\d{2})(?:[:.]\d{2})?(?:\s*[-/]\s*(\d{1,2})[:.](\d{2}))?"
)
_INDEX_RE = re.compile(r"^(?:q|h|e|ora|quarto|periodo|qh|int)?\s*[_ ]?(\d{1,3})$")


def _slots_from_headers(labels: list[str]) -> _Slots | None:
    """Recognise a run of time-slot headers: "00:00-00:15", "00:15", "1", "Q1", "E1"..."""
    clock: list[tuple[int, int | None]] = []
    index: list[int] = []
    for label in labels:
        low = normalise_header(label)
        match = _CLOCK_RE.match(low)
        if match:
            start = int(match.group(1)) * 60 + int(match.group(2))
            end = int(match.group(3)) * 60 + int(match.group(4)) if match.group(3) else None
            clock.append((start, end))
            continue
        match = _INDEX_RE.match(low)
        if match:
            index.append(int(match.group(1)))
            continue
        return None
    if clock and not index:
        starts = [start for start, _ in clock]
        has_ranges = all(end is not None for _, end in clock)
        distinct = sorted(set(starts))
        gaps = {b - a for a, b in itertools.pairwise(distinct)}
        step = min(gaps) if gaps else 60
        if step not in (15, 60):
            return None
        if not has_ranges and 0 not in starts and max(starts) == 1440:
            # Single times that run 00:15..24:00 name the end of each interval.
            starts = [start - step for start in starts]
        return _Slots(tuple(labels), "clock", tuple(starts), step)
    if index and not clock:
        step = 15 if max(index) > 25 else 60
        return _Slots(tuple(labels), "index", tuple(index), step)
    return None


@lru_cache(maxsize=4096)
def _slot_map(slots: _Slots, day: dt.date) -> tuple[np.ndarray, int]:
    """Return, for each slot, the index of the day's interval it holds (-1: none that day)."""
    info = timeaxis.local_day(day)
    count = info.intervals(slots.step_minutes)
    mapping = np.full(slots.count, -1, np.int64)
    if slots.mode == "index":
        for position, number in enumerate(slots.keys):
            if 1 <= number <= count:
                mapping[position] = number - 1
    else:
        where = {key: k for k, key in enumerate(info.clock(slots.step_minutes))}
        seen: dict[int, int] = {}
        for position, minute in enumerate(slots.keys):
            # A clock time met for the second time is the repeated October hour (+01:00).
            occurrence = seen.get(minute, 0)
            seen[minute] = occurrence + 1
            mapping[position] = where.get((minute, occurrence), -1)
    mapping.setflags(write=False)
    return mapping, count


@dataclass
class _DayRows:
    """A batch of day rows waiting for vectorised parsing."""

    lines: list[int] = field(default_factory=list)
    points: list[int] = field(default_factory=list)
    days: list[dt.date] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)
    values: list[list[str]] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


def _flush_day_rows(
    rows: _DayRows, slots: _Slots, *, decimal: str, scale_digits: int, out: _Output
) -> None:
    """Parse a batch of day rows and emit complete hours; reject rows with any problem."""
    if not rows:
        return
    values, status = money.parse_scaled_array(
        np.array(rows.values, dtype=str), decimal_sep=decimal, scale_digits=scale_digits
    )
    ordinals = np.array([day.toordinal() for day in rows.days], np.int64)
    unique_days, inverse = np.unique(ordinals, return_inverse=True)
    lines = np.array(rows.lines, np.int32)
    points = np.array(rows.points, np.int64)
    quantities = np.array(rows.quantities, np.int8)
    per_hour = 60 // slots.step_minutes
    for day_index, ordinal in enumerate(unique_days.tolist()):
        day = dt.date.fromordinal(ordinal)
        members = np.flatnonzero(inverse == day_index)
        mapping, count = _slot_map(slots, day)
        exists = mapping >= 0
        day_status = status[members]
        day_values = values[members]
        covered = np.zeros(count, bool)
        covered[mapping[exists]] = True
        if not covered.all():
            missing = int(np.flatnonzero(~covered)[0])
            minute, fold = timeaxis.local_day(day).clock(slots.step_minutes)[missing]
            reason = (
                f"{day:%d/%m/%Y} has {count} intervals of {slots.step_minutes} minutes; the "
                f"file has no column for {minute // 60:02d}:{minute % 60:02d}"
                + (" (second occurrence, +01:00)" if fold else "")
            )
            for member in members.tolist():
                out.reject(rows.lines[member], "header", reason, rows.raws[member])
            continue
        invalid = day_status >= TextStatus.NOT_A_NUMBER
        missing = exists[None, :] & (day_status == TextStatus.EMPTY)
        stray = ~exists[None, :] & (day_status == TextStatus.OK) & (day_values != 0)
        problem = invalid | missing | stray
        bad = problem.any(axis=1)
        for row in np.flatnonzero(bad).tolist():
            column = int(np.flatnonzero(problem[row])[0])
            member = int(members[row])
            label = slots.labels[column]
            if invalid[row, column]:
                text = rows.values[member][column]
                reason = f'{numbers.STATUS_TEXT[int(day_status[row, column])]}: "{text}"'
            elif missing[row, column]:
                reason = f"no value for {day:%d/%m/%Y} {label}"
            else:
                reason = f"value present but {label} does not exist on {day:%d/%m/%Y} (DST change)"
            out.reject(rows.lines[member], label, reason, rows.raws[member])
        good = ~bad
        if not good.any():
            continue
        # Columns in time order: the interval k of the day sits in column order[k].
        order = np.empty(count, np.int64)
        order[mapping[exists]] = np.flatnonzero(exists)
        energies = day_values[good][:, order]
        hours = count // per_hour
        hourly = energies.reshape(-1, hours, per_hour).sum(axis=2)
        midnight = timeaxis.local_day(day).midnight_utc_s
        hour_starts = midnight + 3600 * np.arange(hours, dtype=np.int64)
        good_members = members[good]
        n_good = good_members.size
        out.add(
            np.repeat(points[good_members], hours),
            np.tile(hour_starts, n_good),
            np.repeat(quantities[good_members], hours),
            hourly.reshape(-1),
            np.full(n_good * hours, 60, np.int32),
            np.repeat(lines[good_members], hours),
        )


# ---------------------------------------------------------------------------- interval rows


@dataclass
class _IntervalRows:
    """A batch of one-interval rows: a time key and one value column per quantity."""

    lines: list[int] = field(default_factory=list)
    points: list[int] = field(default_factory=list)
    stamps: list[object] = field(default_factory=list)
    values: list[list[str]] = field(default_factory=list)
    quantities: list[tuple[int, ...]] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)


# A resolved time key: (first UTC start, second UTC start, kind or error text).
_Resolved = tuple[int, int, int | str]


@dataclass
class _IntervalReader:
    """Turns interval rows into quarter-hour (or hour) partial sums."""

    resolve: Callable[[object], _Resolved]
    value_labels: tuple[str, ...]
    step_minutes: int
    decimal: str
    scale_digits: int
    occurrences: dict[tuple[int, object, tuple[int, ...]], int] = field(default_factory=dict)
    cache: dict[object, _Resolved] = field(default_factory=dict)

    def flush(self, rows: _IntervalRows, out: _Output) -> None:
        count = len(rows)
        if not count:
            return
        cache = self.cache
        step_s = 60 * self.step_minutes
        starts = np.zeros(count, np.int64)
        usable = np.ones(count, bool)
        for index, stamp in enumerate(rows.stamps):
            hit = cache.get(stamp)
            if hit is None:
                hit = cache[stamp] = self.resolve(stamp)
            first, _, kind = hit
            if kind == timeaxis.UNIQUE and not first % step_s:
                starts[index] = first
                continue
            problem = self._place(rows, index, hit, step_s, starts)
            if problem:
                usable[index] = False
                out.reject(rows.lines[index], "timestamp", problem, rows.raws[index])
        values, status = money.parse_scaled_array(
            np.array(rows.values, dtype=str),
            decimal_sep=self.decimal,
            scale_digits=self.scale_digits,
        )
        invalid = (status >= TextStatus.NOT_A_NUMBER) & usable[:, None]
        present = status == TextStatus.OK
        for index in np.flatnonzero(invalid.any(axis=1)).tolist():
            bad = int(np.flatnonzero(invalid[index])[0])
            text = rows.values[index][bad].strip()
            reason = f'{numbers.STATUS_TEXT[int(status[index, bad])]}: "{text}"'
            out.reject(rows.lines[index], self.value_labels[bad], reason, rows.raws[index])
        nothing = usable & ~invalid.any(axis=1) & ~present.any(axis=1)
        for index in np.flatnonzero(nothing).tolist():
            label = self.value_labels[0]
            out.reject(rows.lines[index], label, "no energy value in the row", rows.raws[index])
        good = usable & ~invalid.any(axis=1)
        row, column = np.nonzero(present & good[:, None])
        quantities = np.array(rows.quantities, np.int8)
        row_starts = starts[row]
        out.add(
            np.array(rows.points, np.int64)[row],
            row_starts - row_starts % 3600,
            quantities[row, column],
            values[row, column],
            np.full(row.size, self.step_minutes),
            np.array(rows.lines, np.int32)[row],
        )

    def _place(
        self, rows: _IntervalRows, index: int, hit: _Resolved, step_s: int, starts: np.ndarray
    ) -> str | None:
        """Set the start of a row whose time is not plain; return a problem or None."""
        first, second, kind = hit
        if isinstance(kind, str):
            return kind
        if kind == timeaxis.NONEXISTENT:
            return "this local time does not exist (DST starts at 02:00 on this day)"
        start = first
        if kind == timeaxis.AMBIGUOUS:
            # The repeated October hour: the first row met is +02:00, the second +01:00.
            key = (rows.points[index], rows.stamps[index], rows.quantities[index])
            seen = self.occurrences.get(key, 0)
            self.occurrences[key] = seen + 1
            if seen > 1:
                return "a third row for a local time that occurs only twice"
            start = second if seen else first
        if start % step_s:
            return f"not the start of a {self.step_minutes}-minute interval"
        starts[index] = start
        return None


def _read_interval_rows(
    body: Iterable[str],
    *,
    first_line: int,
    delimiter: str,
    header: list[str],
    pod_col: int,
    stamp_of: Callable[[list[str]], object],
    value_cols: list[int],
    quantity_of_row: Callable[[list[str]], int | str | None] | None,
    quantity_col: int | None,
    fixed_quantities: tuple[int, ...],
    reader_factory: Callable[[], _IntervalReader],
    pod_ids: Mapping[str, int],
    layout: str,
) -> CurveParse:
    out = _Output()
    reader = reader_factory()
    batch = _IntervalRows()
    needed = max([pod_col, *value_cols, quantity_col or 0]) + 1
    pod_cache: dict[str, int | str] = {}
    for offset, row in enumerate(csv.reader(body, delimiter=delimiter)):
        line = first_line + offset
        if not row or not any(cell.strip() for cell in row):
            continue
        out.data_lines += 1
        raw = delimiter.join(row)
        if len(row) < needed:
            out.reject(line, "columns", f"{len(row)} columns instead of {len(header)}", raw)
            continue
        raw_pod = row[pod_col]
        point = pod_cache.get(raw_pod)
        if point is None:
            pod = _clean_pod(raw_pod)
            point = pod_cache[raw_pod] = _pod_problem(pod, pod_ids) or pod_ids[pod]
        if isinstance(point, str):
            out.reject(line, header[pod_col], point, raw)
            continue
        quantities = fixed_quantities
        if quantity_of_row is not None:
            quantity = quantity_of_row(row)
            if quantity == "skip":
                out.ignored_lines += 1
                continue
            if quantity is None:
                label = row[quantity_col] if quantity_col is not None else ""
                out.reject(
                    line,
                    header[quantity_col] if quantity_col is not None else "quantity",
                    f'unknown quantity "{label}" (expected e.g. Prelievo or Immissione)',
                    raw,
                )
                continue
            quantities = (int(quantity),)
        try:
            stamp = stamp_of(row)
        except IndexError:
            out.reject(line, "columns", f"{len(row)} columns instead of {len(header)}", raw)
            continue
        batch.lines.append(line)
        batch.points.append(point)
        batch.stamps.append(stamp)
        batch.values.append([row[i] for i in value_cols])
        batch.quantities.append(quantities)
        batch.raws.append(raw)
        if len(batch) >= _CHUNK_LONG:
            reader.flush(batch, out)
            batch = _IntervalRows()
    reader.flush(batch, out)
    return out.result(layout)
