"""CSV files of any other layout, read through a ColumnMapping that names their columns."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from cer.imports import timeaxis
from cer.imports.curves._hours import (
    INJECTED,
    KWH_DIGITS,
    WH_DIGITS,
    WITHDRAWN,
    CurveParse,
    FileRefused,
    _IntervalReader,
    _read_interval_rows,
    _Resolved,
    decode_text,
)


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
