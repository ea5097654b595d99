"""Day-ahead zonal price files: bytes in, priced intervals out; no database.

Accepted (docs/imports.md gives the layouts and what could be verified):

* GME MGP "Prezzi" XML: records with Data (yyyymmdd), Ora 1..25 (hourly, before
  1 Oct 2025) or Periodo 1..100 (quarter-hourly, from 1 Oct 2025) and one element per
  zone (NORD, CNOR, CSUD, SUD, CALA, SICI, SARD), prices in EUR/MWh with a decimal comma;
* the same table as CSV (semicolon, decimal comma), as the GME site exports it;
* a simple CSV: zone;start;minutes;price, start in ISO 8601 with its UTC offset.

Period k of a local day starts at local midnight (in UTC) + (k - 1) * length, so Ora 4 on
the October change-over day is the second 02:00 (+01:00), and a 23-hour March day has
no Ora 24. Prices are Decimals with at most six decimals, as ZonalPrice stores them.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from cer.imports import timeaxis
from cer.imports.curves import (
    FileRefused,
    Rejection,
    decode_text,
    normalise_header,
    parse_italian_date,
    read_xml_records,
)

# The geographical bidding zones of MarketZone; PUN, NAT and foreign or virtual zones
# (AUST, SVIZ, COAC, ...) are not ZonalPrice zones and are skipped.
ZONES = ("NORD", "CNOR", "CSUD", "SUD", "CALA", "SICI", "SARD")
SOURCE_GME = "GME"
SOURCE_CSV = "CSV"

_PRICE_RE = re.compile(r"^[+-]?\d{1,6}(?:[.,]\d{1,6})?$")


@dataclass(frozen=True)
class PriceInterval:
    """The price of one zone in one market interval [EUR/MWh]."""

    zone: str
    start_s: int  # UTC start [s since the epoch]
    minutes: int  # 15 or 60 (30 accepted from the simple CSV)
    price_eur_per_mwh: Decimal
    line: int


@dataclass(frozen=True)
class PriceParse:
    intervals: tuple[PriceInterval, ...]
    rejections: tuple[Rejection, ...]
    data_lines: int
    layout: str
    source: str  # GME or CSV (PriceSource codes)

    @property
    def rejected_lines(self) -> int:
        return len({r.line for r in self.rejections})


def parse_price_file(data: bytes, *, kind: str = "auto") -> PriceParse:
    """Read a price file of kind "auto", "gme" (XML or CSV) or "csv" (the simple layout).

    Raises FileRefused when the file is none of the accepted layouts.
    """
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        if kind == "csv":
            raise FileRefused("An XML file is not the simple price CSV.")
        return parse_gme_xml(data)
    text = decode_text(data)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    names = [normalise_header(cell) for cell in next(csv.reader([first], delimiter=delimiter))]
    if {"zone", "start", "minutes", "price"} <= set(names) and kind in {"auto", "csv"}:
        return parse_simple_price_csv(lines, delimiter=delimiter, names=names)
    if "data" in names and ({"ora", "periodo"} & set(names)) and kind in {"auto", "gme"}:
        return _parse_gme_table(lines, delimiter=delimiter, names=names)
    raise FileRefused(
        'Not a price file: expected a GME XML, a GME CSV with "Data;Ora" (or "Periodo") and '
        'zone columns, or a CSV with the header "zone;start;minutes;price".'
    )


@dataclass
class _GmeRecord:
    line: int
    date_text: str
    number_text: str
    by_period: bool  # "Periodo" rather than "Ora"
    granularity: str  # PT15, PT60 or ""
    prices: dict[str, str]
    raw: str


def parse_gme_xml(data: bytes) -> PriceParse:
    """Read a GME MGP prices XML (NewDataSet of Prezzi or Prezzi15 records)."""
    records = []
    for node in read_xml_records(data, {"prezzi", "prezzi15", "prezziquartorari", "mgpprezzi"}):
        values = {child.tag.upper(): "".join(child.text).strip() for child in node.children}
        if "DATA" not in values:
            continue
        by_period = "PERIODO" in values
        records.append(
            _GmeRecord(
                line=node.line,
                date_text=values["DATA"],
                number_text=values.get("PERIODO" if by_period else "ORA", ""),
                by_period=by_period,
                granularity=values.get("GRANULARITY", "").upper(),
                prices={zone: values[zone] for zone in ZONES if zone in values},
                raw=";".join(f"{k}={v}" for k, v in values.items())[:500],
            )
        )
    if not records:
        raise FileRefused("No GME price records (Prezzi with Data and Ora or Periodo) found.")
    return _price_records(records, layout="GME MGP prices XML")


def _parse_gme_table(lines: list[str], *, delimiter: str, names: list[str]) -> PriceParse:
    header_at = next(i for i, line in enumerate(lines) if line.strip())
    rows = csv.reader(lines[header_at + 1 :], delimiter=delimiter)
    by_period = "periodo" in names
    date_col = names.index("data")
    number_col = names.index("periodo" if by_period else "ora")
    granularity_col = names.index("granularity") if "granularity" in names else None
    zone_cols = {zone: names.index(zone.lower()) for zone in ZONES if zone.lower() in names}
    if not zone_cols:
        raise FileRefused("The GME table has no zone columns (NORD, CNOR, CSUD, SUD, ...).")
    records = []
    for offset, row in enumerate(rows):
        if not any(cell.strip() for cell in row):
            continue
        line = header_at + 2 + offset
        get = lambda col: row[col].strip() if col is not None and col < len(row) else ""  # noqa: E731, B023
        records.append(
            _GmeRecord(
                line=line,
                date_text=get(date_col),
                number_text=get(number_col),
                by_period=by_period,
                granularity=get(granularity_col).upper(),
                prices={zone: get(col) for zone, col in zone_cols.items()},
                raw=delimiter.join(row)[:500],
            )
        )
    return _price_records(records, layout="GME MGP prices CSV")


def _gme_date(text: str) -> dt.date | None:
    if re.fullmatch(r"\d{8}", text):
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return parse_italian_date(text)


def _price_records(records: list[_GmeRecord], *, layout: str) -> PriceParse:
    rejections: list[Rejection] = []
    good: list[tuple[_GmeRecord, dt.date, int]] = []
    for record in records:
        day = _gme_date(record.date_text)
        if day is None:
            reason = f'date "{record.date_text}" is not yyyymmdd or dd/mm/yyyy'
            rejections.append(Rejection(record.line, "Data", reason, record.raw))
            continue
        if not record.number_text.isdigit():
            field = "Periodo" if record.by_period else "Ora"
            reason = f'"{record.number_text}" is not a period number'
            rejections.append(Rejection(record.line, field, reason, record.raw))
            continue
        good.append((record, day, int(record.number_text)))
    # Length of the periods of each day: the Granularity element when present, else
    # quarter-hours when a day has more than 25 periods (from 1 Oct 2025), else hours.
    longest: dict[dt.date, int] = defaultdict(int)
    for _record, day, number in good:
        longest[day] = max(longest[day], number)
    intervals: list[PriceInterval] = []
    seen: dict[tuple[str, int, int], int] = {}
    for record, day, number in good:
        if record.granularity in {"PT15", "PT60"}:
            minutes = int(record.granularity[2:])
        else:
            minutes = 15 if longest[day] > 25 else 60
        info = timeaxis.local_day(day)
        count = info.intervals(minutes)
        field = "Periodo" if record.by_period else "Ora"
        if not 1 <= number <= count:
            reason = f"{field} {number} does not exist on {day:%d/%m/%Y} (1..{count})"
            rejections.append(Rejection(record.line, field, reason, record.raw))
            continue
        start = info.midnight_utc_s + (number - 1) * minutes * 60
        for zone, text in record.prices.items():
            if not text:
                continue
            price = _price(text)
            if price is None:
                reason = f'price "{text}" is not a number with at most 6 decimals'
                rejections.append(Rejection(record.line, zone, reason, record.raw))
                continue
            key = (zone, start, minutes)
            if key in seen:
                reason = f"duplicate of line {seen[key]}"
                rejections.append(Rejection(record.line, zone, reason, record.raw))
                continue
            seen[key] = record.line
            intervals.append(PriceInterval(zone, start, minutes, price, record.line))
    return PriceParse(
        intervals=tuple(intervals),
        rejections=tuple(rejections),
        data_lines=len(records),
        layout=layout,
        source=SOURCE_GME,
    )


def _price(text: str) -> Decimal | None:
    cleaned = text.strip()
    if not _PRICE_RE.match(cleaned):
        return None
    return Decimal(cleaned.replace(",", "."))


def parse_simple_price_csv(lines: list[str], *, delimiter: str, names: list[str]) -> PriceParse:
    """Read zone;start;minutes;price rows; start is ISO 8601 with an offset."""
    header_at = next(i for i, line in enumerate(lines) if line.strip())
    columns = {name: names.index(name) for name in ("zone", "start", "minutes", "price")}
    rejections: list[Rejection] = []
    intervals: list[PriceInterval] = []
    seen: dict[tuple[str, int, int], int] = {}
    data_lines = 0
    for offset, row in enumerate(csv.reader(lines[header_at + 1 :], delimiter=delimiter)):
        if not any(cell.strip() for cell in row):
            continue
        data_lines += 1
        line = header_at + 2 + offset
        raw = delimiter.join(row)[:500]
        if len(row) < len(names):
            reason = f"{len(row)} columns instead of {len(names)}"
            rejections.append(Rejection(line, "columns", reason, raw))
            continue
        zone = row[columns["zone"]].strip().upper()
        start_text = row[columns["start"]].strip()
        minutes_text = row[columns["minutes"]].strip()
        problem = _simple_row_problem(zone, start_text, minutes_text)
        if problem:
            rejections.append(Rejection(line, problem[0], problem[1], raw))
            continue
        price_text = row[columns["price"]].strip()
        price = _price(price_text) if delimiter != "," or "," not in price_text else None
        if price is None:
            reason = f'price "{price_text}" is not a number with at most 6 decimals'
            rejections.append(Rejection(line, "price", reason, raw))
            continue
        start = int(dt.datetime.fromisoformat(start_text).timestamp())
        minutes = int(minutes_text)
        key = (zone, start, minutes)
        if key in seen:
            rejections.append(Rejection(line, "start", f"duplicate of line {seen[key]}", raw))
            continue
        seen[key] = line
        intervals.append(PriceInterval(zone, start, minutes, price, line))
    return PriceParse(
        intervals=tuple(intervals),
        rejections=tuple(rejections),
        data_lines=data_lines,
        layout="simple price CSV",
        source=SOURCE_CSV,
    )


def _simple_row_problem(zone: str, start_text: str, minutes_text: str) -> tuple[str, str] | None:
    if zone not in ZONES:
        return "zone", f'"{zone}" is not a market zone ({", ".join(ZONES)})'
    if minutes_text not in {"15", "30", "60"}:
        return "minutes", f'"{minutes_text}" is not 15, 30 or 60'
    try:
        moment = dt.datetime.fromisoformat(start_text)
    except ValueError:
        return "start", f'"{start_text}" is not ISO 8601 (e.g. 2025-10-26T02:00:00+01:00)'
    if moment.utcoffset() is None:
        return "start", f'"{start_text}" has no UTC offset (write e.g. "+01:00" or "Z")'
    if int(moment.timestamp()) % (int(minutes_text) * 60):
        return "start", f'"{start_text}" is not the start of a {minutes_text}-minute interval'
    return None
