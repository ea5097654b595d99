"""Load-curve files of grid operators: bytes in, hourly energies per connection point out.

Pure functions: no database, no clock. Three families are read (docs/imports.md gives the
exact layouts and says which parts come from public documentation and which are guesses):

* e-distribuzione CSV exports: one row per POD and day with 92..100 quarter-hour columns
  ("wide"), or one row per quarter-hour ("long");
* the SII measurement flows (PDO, RFO and similar XML) with one ``Ea`` element per day
  carrying ``E1``..``E100``;
* any other CSV described by a ColumnMapping.

Energies are read exactly from their decimal text into integer milliwatt-hours, summed
per UTC hour and rounded half-up to whole watt-hours once, per hour. A Europe/Rome day
has 92, 96 or 100 quarter-hours; the k-th starts at local midnight (in UTC) + k * 15 min,
so the repeated October hour and the missing March hour are just shorter or longer days.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast
from xml.parsers import expat

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


@dataclass(frozen=True)
class ColumnMapping:
    """How to read a CSV layout that is not built in (docs/imports.md, "Column mapping").

    `timestamp` names one column, or several joined with a space before parsing with
    `timestamp_format` (strptime codes, or "iso" for ISO 8601). A timestamp without
    offset is read in `time_zone` ("Europe/Rome" or "UTC") and marks the start of the
    interval unless `timestamp_marks` is "end". Energies are in `unit` ("kWh" or "Wh").
    """

    pod: str
    timestamp: tuple[str, ...]
    timestamp_format: str = "%d/%m/%Y %H:%M"
    time_zone: str = "Europe/Rome"
    timestamp_marks: str = "start"
    interval_minutes: int = 15
    injected: str | None = None
    withdrawn: str | None = None
    unit: str = "kWh"
    decimal: str = ","
    delimiter: str = ";"

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ColumnMapping:
        """Build a mapping from JSON-like data; raise FileRefused on a bad mapping."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise FileRefused(f"Unknown mapping keys: {', '.join(sorted(unknown))}.")
        if "pod" not in data or "timestamp" not in data:
            raise FileRefused('A column mapping needs at least "pod" and "timestamp".')
        values = dict(data)
        stamp = values["timestamp"]
        values["timestamp"] = (stamp,) if isinstance(stamp, str) else tuple(stamp)  # type: ignore[arg-type]
        mapping = cls(**values)  # type: ignore[arg-type]
        mapping.check()
        return mapping

    def check(self) -> None:
        if self.injected is None and self.withdrawn is None:
            raise FileRefused('A column mapping needs "injected", "withdrawn" or both.')
        if self.unit not in {"kWh", "Wh"}:
            raise FileRefused(f'Unit must be "kWh" or "Wh", not "{self.unit}".')
        if self.time_zone not in {"Europe/Rome", "UTC"}:
            raise FileRefused(f'Time zone must be "Europe/Rome" or "UTC", not "{self.time_zone}".')
        if self.timestamp_marks not in {"start", "end"}:
            raise FileRefused('"timestamp_marks" must be "start" or "end".')
        if self.interval_minutes not in {15, 60}:
            raise FileRefused('"interval_minutes" must be 15 or 60.')
        if self.decimal not in {",", "."} or len(self.delimiter) != 1:
            raise FileRefused('"decimal" must be "," or "." and "delimiter" one character.')


# ---------------------------------------------------------------------------- entry points


def parse_curve_file(
    data: bytes,
    *,
    pod_ids: Mapping[str, int],
    mapping: ColumnMapping | None = None,
    kind: str = "auto",
) -> CurveParse:
    """Read a load-curve file of any supported kind into partial hourly sums.

    `pod_ids` maps each POD code the import may write to its connection point id; lines
    of other PODs are rejected. `kind` is "auto", "edistribuzione", "sii" or "mapped"
    (the last needs `mapping`). Raises FileRefused when the file cannot be read at all.
    """
    if mapping is not None or kind == "mapped":
        if mapping is None:
            raise FileRefused("The mapped layout needs a column mapping.")
        return parse_mapped_csv(data, mapping=mapping, pod_ids=pod_ids)
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if kind == "sii" or (kind == "auto" and head.startswith(b"<")):
        return parse_sii_xml(data, pod_ids=pod_ids)
    if kind in {"auto", "edistribuzione"}:
        return parse_edistribuzione_csv(data, pod_ids=pod_ids)
    raise FileRefused(f"Unknown curve file kind: {kind}.")


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


# ---------------------------------------------------------------------------- e-distribuzione

_POD_HEADERS = {
    "pod",
    "codice pod",
    "pod/pdr",
    "cod pod",
    "cod. pod",
    "punto di prelievo",
    "codice punto di prelievo",
}
_DATE_HEADERS = {
    "data",
    "giorno",
    "data misura",
    "data lettura",
    "data rilevazione",
    "data di riferimento",
    "data e ora",
    "data ora",
}
_TIME_HEADERS = {
    "ora",
    "orario",
    "ora inizio",
    "dalle",
    "dalle ore",
    "quarto d'ora",
    "quarto",
    "intervallo",
    "periodo",
}
_QUANTITY_HEADERS = {
    "tipo",
    "tipo misura",
    "grandezza",
    "tipo curva",
    "tipo energia",
    "verso",
    "misura",
    "flusso",
    "curva",
}
_VALUE_HEADERS = {"valore", "energia", "energia attiva", "consumo", "valore misura", "kwh", "wh"}
_UNIT_HEADERS = {"unita di misura", "um", "u.m.", "unita"}


def _quantity_of_text(text: str) -> int | str | None:
    """Map a quantity label to WITHDRAWN/INJECTED; "skip" for reactive or power rows."""
    low = normalise_header(text)
    if any(word in low for word in ("reatt", "reactive", "potenza", "power")):
        return "skip"
    if any(word in low for word in ("prel", "consum", "withdraw", "import")) or low in {
        "a+",
        "ea+",
        "ea",
        "ae+",
    }:
        return WITHDRAWN
    if any(word in low for word in ("imm", "inject", "export")) or low in {"a-", "ea-", "ae-"}:
        return INJECTED
    return None


def _value_quantity_header(header: str) -> int | None:
    low = normalise_header(header)
    if "prel" in low or low in {"a+", "ea+", "consumo"}:
        return WITHDRAWN
    if "immess" in low or "immissione" in low or low in {"a-", "ea-"}:
        return INJECTED
    return None


def _find_header(reader_rows: list[list[str]]) -> int | None:
    for number, row in enumerate(reader_rows):
        names = {normalise_header(cell) for cell in row}
        if names & _POD_HEADERS and names & _DATE_HEADERS:
            return number
    return None


def parse_edistribuzione_csv(data: bytes, *, pod_ids: Mapping[str, int]) -> CurveParse:
    """Read an e-distribuzione load-curve CSV export (day rows or interval rows).

    The header row may follow a few title lines; it must name a POD column ("POD",
    "Codice POD") and a date column ("Data", "Giorno"). Day rows carry 92..100
    quarter-hour columns (or 23..25 hourly ones) headed by clock times or numbers, and
    optionally a quantity column ("Tipo": Prelievo/Immissione); interval rows carry a
    time column and "Prelievo"/"Immissione" energy columns, or "Tipo" and "Valore".
    Energies are kWh with a decimal comma unless a header says (Wh). Raises FileRefused
    when no such header is found.
    """
    text = decode_text(data)
    lines = text.splitlines()
    if not lines:
        raise FileRefused("The file is empty.")
    delimiter = _sniff_delimiter(next((line for line in lines[:30] if line.strip()), ""))
    head = list(csv.reader(lines[:30], delimiter=delimiter))
    header_index = _find_header(head)
    if header_index is None:
        raise FileRefused(
            "No header row with a POD column (POD, Codice POD) and a date column (Data, "
            "Giorno) in the first 30 lines: this is not an e-distribuzione curve export."
        )
    header = [cell.strip() for cell in head[header_index]]
    names = [normalise_header(cell) for cell in header]
    pod_col = next(i for i, name in enumerate(names) if name in _POD_HEADERS)
    date_col = next(i for i, name in enumerate(names) if name in _DATE_HEADERS)
    quantity_col = next((i for i, name in enumerate(names) if name in _QUANTITY_HEADERS), None)
    unit = _unit_of(header) or "kWh"
    scale = KWH_DIGITS if unit == "kWh" else WH_DIGITS

    first_slot = max(pod_col, date_col, quantity_col if quantity_col is not None else -1) + 1
    slot_columns = [
        i for i in range(first_slot, len(header)) if _slots_from_headers([header[i]]) is not None
    ]
    body = lines[header_index + 1 :]
    first_line = header_index + 2
    if len(slot_columns) >= 23:
        slots = _slots_from_headers([header[i] for i in slot_columns])
        if slots is None:
            raise FileRefused("The quarter-hour column headers mix clock times and numbers.")
        return _read_day_rows(
            body,
            first_line=first_line,
            delimiter=delimiter,
            pod_col=pod_col,
            date_col=date_col,
            quantity_col=quantity_col,
            slot_columns=slot_columns,
            slots=slots,
            scale=scale,
            pod_ids=pod_ids,
            header=header,
        )
    return _read_edis_interval_rows(
        body,
        first_line=first_line,
        delimiter=delimiter,
        names=names,
        header=header,
        pod_col=pod_col,
        date_col=date_col,
        quantity_col=quantity_col,
        scale=scale,
        pod_ids=pod_ids,
    )


def _read_day_rows(
    body: list[str],
    *,
    first_line: int,
    delimiter: str,
    pod_col: int,
    date_col: int,
    quantity_col: int | None,
    slot_columns: list[int],
    slots: _Slots,
    scale: int,
    pod_ids: Mapping[str, int],
    header: list[str],
) -> CurveParse:
    out = _Output()
    batch = _DayRows()
    seen: dict[tuple[int, dt.date, int], int] = {}
    width = len(header)
    contiguous = slot_columns == list(range(slot_columns[0], slot_columns[0] + len(slot_columns)))
    low, high = slot_columns[0], slot_columns[-1] + 1
    pod_cache: dict[str, int | str] = {}
    quantity_cache: dict[str, int | str | None] = {}
    reader = csv.reader(body, delimiter=delimiter)
    for offset, row in enumerate(reader):
        line = first_line + offset
        if not row or not any(cell.strip() for cell in row):
            continue
        out.data_lines += 1
        if len(row) < min(width, high):
            out.reject(
                line, "columns", f"{len(row)} columns instead of {width}", delimiter.join(row)
            )
            continue
        raw_pod = row[pod_col]
        point = pod_cache.get(raw_pod)
        if point is None:
            pod = _clean_pod(raw_pod)
            point = pod_cache[raw_pod] = _pod_problem(pod, pod_ids) or pod_ids[pod]
        if isinstance(point, str):
            out.reject(line, header[pod_col], point, delimiter.join(row))
            continue
        day = parse_italian_date(row[date_col])
        if day is None:
            out.reject(
                line,
                header[date_col],
                f'date "{row[date_col]}" is not dd/mm/yyyy',
                delimiter.join(row),
            )
            continue
        quantity: int | str | None = WITHDRAWN
        if quantity_col is not None:
            label = row[quantity_col]
            quantity = quantity_cache.get(label, -1)
            if quantity == -1:
                quantity = quantity_cache[label] = _quantity_of_text(label)
            if quantity == "skip":
                out.ignored_lines += 1
                continue
            if quantity is None:
                out.reject(
                    line,
                    header[quantity_col],
                    f'unknown quantity "{label}" (expected e.g. Prelievo or Immissione)',
                    delimiter.join(row),
                )
                continue
        assert isinstance(quantity, int)
        key = (point, day, quantity)
        if key in seen:
            out.reject(
                line, header[date_col], f"duplicate of line {seen[key]}", delimiter.join(row)
            )
            continue
        seen[key] = line
        batch.lines.append(line)
        batch.points.append(point)
        batch.days.append(day)
        batch.quantities.append(quantity)
        if contiguous:
            cells = row[low:high]
            if len(cells) < len(slot_columns):
                cells = cells + [""] * (len(slot_columns) - len(cells))
        else:
            cells = [row[i] if i < len(row) else "" for i in slot_columns]
        batch.values.append(cells)
        batch.raws.append(delimiter.join(row))
        if len(batch) >= _CHUNK_ROWS:
            _flush_day_rows(batch, slots, decimal=",", scale_digits=scale, out=out)
            batch = _DayRows()
    _flush_day_rows(batch, slots, decimal=",", scale_digits=scale, out=out)
    return out.result(f"e-distribuzione day rows, {slots.count} {slots.mode} columns")


def _clock_key(text: str) -> tuple[int, int | None] | None:
    match = _CLOCK_RE.match(text.strip())
    if not match:
        return None
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = int(match.group(3)) * 60 + int(match.group(4)) if match.group(3) else None
    return start, end


def _read_edis_interval_rows(
    body: list[str],
    *,
    first_line: int,
    delimiter: str,
    names: list[str],
    header: list[str],
    pod_col: int,
    date_col: int,
    quantity_col: int | None,
    scale: int,
    pod_ids: Mapping[str, int],
) -> CurveParse:
    time_col = next((i for i, name in enumerate(names) if name in _TIME_HEADERS), None)
    value_cols = [
        (i, q) for i, h in enumerate(header) if (q := _value_quantity_header(h)) is not None
    ]
    generic_col = next((i for i, name in enumerate(names) if name in _VALUE_HEADERS), None)
    if quantity_col is not None and generic_col is None and not value_cols:
        raise FileRefused('A "Tipo" column needs a "Valore" column with the energies.')
    if quantity_col is None and not value_cols:
        raise FileRefused(
            "No energy columns: expected quarter-hour columns (00:00-00:15 ... or 1..96), or "
            '"Prelievo"/"Immissione" columns, or "Tipo" and "Valore".'
        )

    def split_stamp(row: list[str]) -> tuple[str, str]:
        if time_col is not None:
            return row[date_col].strip(), row[time_col].strip()
        # One "Data e ora" column: dd/mm/yyyy hh:mm.
        parts = row[date_col].split()
        return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")

    rows_sample = list(csv.reader(body[:5000], delimiter=delimiter))
    time_texts = {
        split_stamp(row)[1] for row in rows_sample if len(row) > max(date_col, time_col or 0)
    }
    time_texts.discard("")
    quarter_header = time_col is not None and "quart" in names[time_col]
    by_index = bool(time_texts) and all(text.isdigit() for text in time_texts)
    if by_index:
        step = 15 if max(int(text) for text in time_texts) > 25 or quarter_header else 60
        marks_end = False
    else:
        keys = [k for text in time_texts if (k := _clock_key(text)) is not None]
        starts = sorted({start for start, _ in keys})
        gaps = {b - a for a, b in itertools.pairwise(starts)}
        step = min(gaps) if gaps and min(gaps) in (15, 60) else 15
        marks_end = (
            bool(keys)
            and all(end is None for _, end in keys)
            and (1440 in starts or (0 not in starts and step in starts))
        )

    def resolve(stamp: object) -> _Resolved:
        date_text, time_text = cast(tuple[str, str], stamp)
        day = parse_italian_date(date_text)
        if day is None:
            return 0, 0, f'date "{date_text}" is not dd/mm/yyyy'
        info = timeaxis.local_day(day)
        if by_index:
            number = int(time_text) if time_text.strip().isdigit() else 0
            if not 1 <= number <= info.intervals(step):
                return 0, 0, f'interval number "{time_text}" outside 1..{info.intervals(step)}'
            start = info.midnight_utc_s + (number - 1) * step * 60
            return start, start, timeaxis.UNIQUE
        key = _clock_key(time_text)
        if key is None:
            return 0, 0, f'time "{time_text}" is not hh:mm'
        minute = key[0] - (step if marks_end else 0)
        if not 0 <= minute < 1440:
            return 0, 0, f'time "{time_text}" is outside the day'
        # A naive wall-clock time on purpose: local_to_utc_s tells its two folds apart.
        moment = dt.datetime(day.year, day.month, day.day) + dt.timedelta(minutes=minute)  # noqa: DTZ001
        return timeaxis.local_to_utc_s(moment)

    if quantity_col is not None and generic_col is not None:
        return _read_interval_rows(
            body,
            first_line=first_line,
            delimiter=delimiter,
            header=header,
            pod_col=pod_col,
            stamp_of=split_stamp,
            value_cols=[generic_col],
            quantity_of_row=lambda row: _quantity_of_text(row[quantity_col]),
            quantity_col=quantity_col,
            fixed_quantities=(),
            reader_factory=lambda: _IntervalReader(
                resolve, (header[generic_col],), step, ",", scale
            ),
            pod_ids=pod_ids,
            layout="e-distribuzione interval rows with a quantity column",
        )
    return _read_interval_rows(
        body,
        first_line=first_line,
        delimiter=delimiter,
        header=header,
        pod_col=pod_col,
        stamp_of=split_stamp,
        value_cols=[i for i, _ in value_cols],
        quantity_of_row=None,
        quantity_col=None,
        fixed_quantities=tuple(q for _, q in value_cols),
        reader_factory=lambda: _IntervalReader(
            resolve, tuple(header[i] for i, _ in value_cols), step, ",", scale
        ),
        pod_ids=pod_ids,
        layout="e-distribuzione interval rows",
    )


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


# ---------------------------------------------------------------------------- mapped CSV


def parse_mapped_csv(
    data: bytes, *, mapping: ColumnMapping, pod_ids: Mapping[str, int]
) -> CurveParse:
    """Read a CSV with one row per interval whose columns a ColumnMapping names.

    Raises FileRefused when a mapped column is missing from the header row.
    """
    mapping.check()
    text = decode_text(data)
    lines = text.splitlines()
    if not lines:
        raise FileRefused("The file is empty.")
    header = [cell.strip() for cell in next(csv.reader(lines[:1], delimiter=mapping.delimiter))]
    wanted = [mapping.pod, *mapping.timestamp]
    wanted += [name for name in (mapping.withdrawn, mapping.injected) if name]
    missing = [name for name in wanted if name not in header]
    if missing:
        raise FileRefused(
            f"Columns not in the header: {', '.join(missing)} (the header has: "
            f"{', '.join(header)})."
        )
    pod_col = header.index(mapping.pod)
    stamp_cols = [header.index(name) for name in mapping.timestamp]
    value_cols: list[int] = []
    quantities: list[int] = []
    for name, quantity in ((mapping.withdrawn, WITHDRAWN), (mapping.injected, INJECTED)):
        if name:
            value_cols.append(header.index(name))
            quantities.append(quantity)
    step = mapping.interval_minutes
    shift = step * 60 if mapping.timestamp_marks == "end" else 0
    local = mapping.time_zone == "Europe/Rome"
    fmt = mapping.timestamp_format

    def resolve(stamp: object) -> _Resolved:
        text = str(stamp).strip()
        try:
            # Naive on purpose when the text has no offset: the zone is applied below.
            moment = (
                dt.datetime.fromisoformat(text) if fmt == "iso" else dt.datetime.strptime(text, fmt)  # noqa: DTZ007
            )
        except ValueError:
            expected = "ISO 8601" if fmt == "iso" else fmt
            return 0, 0, f'timestamp "{text}" does not match {expected}'
        if moment.tzinfo is not None:
            instant = int(moment.timestamp()) - shift
            return instant, instant, timeaxis.UNIQUE
        if not local:
            instant = int(moment.replace(tzinfo=timeaxis.UTC).timestamp()) - shift
            return instant, instant, timeaxis.UNIQUE
        if shift:
            # An end mark names the interval that ends then: step back on the UTC axis, so
            # "03:00" on the October day resolves through its own fold first.
            early, late, kind = timeaxis.local_to_utc_s(moment)
            if kind == timeaxis.NONEXISTENT:
                return early, late, kind
            return early - shift, late - shift, kind
        return timeaxis.local_to_utc_s(moment)

    return _read_interval_rows(
        lines[1:],
        first_line=2,
        delimiter=mapping.delimiter,
        header=header,
        pod_col=pod_col,
        stamp_of=lambda row: " ".join(row[i] for i in stamp_cols),
        value_cols=value_cols,
        quantity_of_row=None,
        quantity_col=None,
        fixed_quantities=tuple(quantities),
        reader_factory=lambda: _IntervalReader(
            resolve,
            tuple(header[i] for i in value_cols),
            step,
            mapping.decimal,
            KWH_DIGITS if mapping.unit == "kWh" else WH_DIGITS,
        ),
        pod_ids=pod_ids,
        layout="mapped CSV",
    )


# ---------------------------------------------------------------------------- SII XML

_SII_QUANTITIES = {"ea": WITHDRAWN, "eaimm": INJECTED, "eai": INJECTED, "eimm": INJECTED}
_SII_SLOTS = _Slots(
    labels=tuple(f"E{k}" for k in range(1, 101)),
    mode="index",
    keys=tuple(range(1, 101)),
    step_minutes=15,
)


@dataclass
class _XmlNode:
    tag: str
    line: int
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)
    children: list[_XmlNode] = field(default_factory=list)

    def child_text(self, name: str) -> str | None:
        low = name.lower()
        for child in self.children:
            if child.tag.lower() == low:
                return "".join(child.text).strip()
        for key, value in self.attrs.items():
            if key.lower() == low:
                return value.strip()
        return None


def read_xml_records(data: bytes, record_tags: set[str]) -> Iterator[_XmlNode]:
    """Yield each element whose tag is in `record_tags` (lower case) with its subtree.

    Uses expat and refuses any DOCTYPE, so entity-expansion attacks cannot start.
    Raises FileRefused on malformed XML.
    """
    parser = expat.ParserCreate()
    stack: list[_XmlNode] = []
    done: list[_XmlNode] = []

    def forbid_doctype(*_args: object) -> None:
        raise FileRefused("XML files with a DOCTYPE are not accepted.")

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(":", 1)[-1]
        node = _XmlNode(local, parser.CurrentLineNumber, attrs)
        if stack:
            stack[-1].children.append(node)
        if local.lower() in record_tags or stack:
            stack.append(node)

    def end(tag: str) -> None:
        if stack:
            node = stack.pop()
            if not stack:
                done.append(node)

    def text(chunk: str) -> None:
        if stack:
            stack[-1].text.append(chunk)

    parser.StartDoctypeDeclHandler = forbid_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    stream = io.BytesIO(data)
    while True:
        block = stream.read(1 << 20)
        try:
            parser.Parse(block, not block)
        except expat.ExpatError as error:
            raise FileRefused(f"The XML is malformed: {error}.") from None
        yield from done
        done.clear()
        if not block:
            return


def parse_sii_xml(data: bytes, *, pod_ids: Mapping[str, int]) -> CurveParse:
    """Read an SII measurement flow (FlussoMisure, e.g. PDO or RFO) with quarter-hour curves.

    Each DatiPod gives the Pod and MeseAnno (mm/yyyy); each ``Ea`` element below it is one
    day (attribute or child ``Giorno``, day of month, or ``Data`` dd/mm/yyyy) with values
    ``E1``..``E100`` in kWh, decimal comma. ``Ea`` is withdrawn energy; an ``EaImm``
    element, if present, is read as injected (a guess: docs/imports.md). Raises
    FileRefused when the file is not a FlussoMisure.
    """
    head = data[:2048].decode("utf-8", errors="replace")
    if "FlussoMisure" not in head and "DatiPod" not in data[:200_000].decode("utf-8", "replace"):
        raise FileRefused("This XML is not an SII measurement flow (no FlussoMisure/DatiPod).")
    out = _Output()
    batch = _DayRows()
    seen: dict[tuple[int, dt.date, int], int] = {}
    for pod_node in read_xml_records(data, {"datipod"}):
        pod_text = _clean_pod(pod_node.child_text("Pod") or "")
        month_text = pod_node.child_text("MeseAnno") or ""
        days = [node for node in _walk(pod_node) if node.tag.lower() in _SII_QUANTITIES]
        raw = f"DatiPod {pod_text} {month_text}"
        if not days:
            continue
        problem = _pod_problem(pod_text, pod_ids)
        if problem:
            for node in days:
                out.data_lines += 1
                out.reject(node.line, "Pod", problem, raw)
            continue
        point = pod_ids[pod_text]
        month = re.match(r"^(\d{1,2})/(\d{4})$", month_text)
        for node in days:
            out.data_lines += 1
            day = _sii_day(node, month)
            if isinstance(day, str):
                out.reject(node.line, "Giorno", day, raw)
                continue
            quantity = _SII_QUANTITIES[node.tag.lower()]
            key = (point, day, quantity)
            if key in seen:
                out.reject(node.line, node.tag, f"duplicate of line {seen[key]}", raw)
                continue
            seen[key] = node.line
            values = {k.upper(): v for k, v in node.attrs.items()}
            for child in node.children:
                values[child.tag.upper()] = "".join(child.text)
            batch.lines.append(node.line)
            batch.points.append(point)
            batch.days.append(day)
            batch.quantities.append(quantity)
            batch.values.append([values.get(f"E{k}", "") for k in range(1, 101)])
            batch.raws.append(f"{raw} {node.tag} {day:%d/%m/%Y}")
            if len(batch) >= _CHUNK_ROWS:
                _flush_day_rows(batch, _SII_SLOTS, decimal=",", scale_digits=KWH_DIGITS, out=out)
                batch = _DayRows()
    _flush_day_rows(batch, _SII_SLOTS, decimal=",", scale_digits=KWH_DIGITS, out=out)
    return out.result("SII measurement flow")


def _walk(node: _XmlNode) -> Iterator[_XmlNode]:
    for child in node.children:
        yield child
        yield from _walk(child)


def _sii_day(node: _XmlNode, month: re.Match[str] | None) -> dt.date | str:
    full = node.child_text("Data") or node.child_text("Dt")
    if full:
        day = parse_italian_date(full)
        return day if day else f'date "{full}" is not dd/mm/yyyy'
    number = node.child_text("Giorno") or node.child_text("Gg")
    if month is None:
        return "MeseAnno missing or not mm/yyyy"
    if not number or not number.strip().isdigit():
        return f'day of month "{number or ""}" is not a number'
    try:
        return dt.date(int(month.group(2)), int(month.group(1)), int(number))
    except ValueError:
        return f"day {number} does not exist in {month.group(0)}"
