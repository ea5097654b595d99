"""e-distribuzione load-curve CSV exports: one row per POD and day, or one per interval.

A day row carries 92..100 quarter-hour columns (or 23..25 hourly ones), an interval row
one quarter-hour; docs/imports.md gives both layouts.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections.abc import Mapping
from typing import cast

from cer.imports import timeaxis
from cer.imports.curves._hours import (
    _CHUNK_ROWS,
    _CLOCK_RE,
    INJECTED,
    KWH_DIGITS,
    WH_DIGITS,
    WITHDRAWN,
    CurveParse,
    FileRefused,
    _clean_pod,
    _DayRows,
    _flush_day_rows,
    _IntervalReader,
    _Output,
    _pod_problem,
    _read_interval_rows,
    _Resolved,
    _Slots,
    _slots_from_headers,
    _sniff_delimiter,
    _unit_of,
    decode_text,
    normalise_header,
    parse_italian_date,
)

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
