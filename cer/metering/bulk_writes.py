"""Bulk SQL writes of the metering tables: the machinery under cer.metering.recording.

Three shapes of write, all set-based (never a statement per row on PostgreSQL):
`insert_returning` (INSERT … ON CONFLICT DO NOTHING RETURNING, for idempotency keys),
`add_to_hourly` (atomic increments of device energy) and `upsert_hourly` (rows staged in a
temporary table, by binary COPY on PostgreSQL and batched inserts on SQLite, then applied
with one UPDATE of the differing rows and one INSERT of the new ones). Only
cer.metering.recording calls them: it decides what to write, audits and bumps the version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection
from django.db.models import Field

from cer.metering.models import HourlyReading, ReadingQuality

if TYPE_CHECKING:
    from cer.metering.batches import HourlyRows

_STAGE = "metering_hourly_stage"
_COPY_SLICE = 1_000_000  # hourly rows per binary COPY write
_SQLITE_SLICE = 5_000
_PG_EPOCH_S = 946_684_800  # 2000-01-01T00:00Z, the origin of PostgreSQL timestamps
# Numbering of the quality codes in the stage; NO_QUALITY: the row carries none.
QUALITY_CODES: tuple[str, ...] = tuple(ReadingQuality.values)
NO_QUALITY = -1
_INTERPOLATED = ReadingQuality.INTERPOLATED.value


# --- atomic increments ------------------------------------------------------------------


def add_to_hourly(rows: HourlyRows, *, source: str) -> None:
    """Add the rows' energies [Wh] to the stored ones of their source, creating rows as needed.

    Deltas that take energy back go through UPDATE: PostgreSQL checks the CHECK
    constraint on the proposed row of an upsert before it sees the conflict, so a
    negative delta cannot ride on INSERT … ON CONFLICT even when the sum stays >= 0.
    Rows are written in (point, hour) order, so concurrent workers lock in the same order.
    A row whose quality is INTERPOLATED marks its hour so; other rows leave the stored
    quality as it is (an hour with energy spread across a gap stays interpolated).
    """
    table = HourlyReading._meta.db_table
    additions: list[tuple[int, Any, int, int, str]] = []
    corrections: list[tuple[int, Any, int, int, str]] = []
    order = np.lexsort((rows.hour_start_s, rows.point_id))
    valid = ReadingQuality.VALID.value
    db_time = time_adapter()
    qualities = [valid] * len(rows) if rows.quality is None else rows.quality[order].tolist()
    for point_id, hour_s, injected, withdrawn, quality in zip(
        rows.point_id[order].tolist(),
        rows.hour_start_s[order].tolist(),
        rows.injected_wh[order].tolist(),
        rows.withdrawn_wh[order].tolist(),
        qualities,
        strict=True,
    ):
        if not (injected or withdrawn):
            continue
        hour = db_time(dt.datetime.fromtimestamp(hour_s, tz=dt.UTC))
        row = (point_id, hour, injected, withdrawn, str(quality))
        (corrections if injected < 0 or withdrawn < 0 else additions).append(row)
    columns = {
        "connection_point_id": "bigint",
        "hour_start": "timestamptz",
        "source": "varchar",
        "quality": "varchar",
        "injected_wh": "bigint",
        "withdrawn_wh": "bigint",
    }
    head = f"INSERT INTO {table} ({', '.join(columns)}) "
    # An atomic increment: concurrent workers never overwrite each other's sums.
    tail = (
        " ON CONFLICT (connection_point_id, hour_start, source) DO UPDATE SET "
        f"injected_wh = {table}.injected_wh + excluded.injected_wh, "
        f"withdrawn_wh = {table}.withdrawn_wh + excluded.withdrawn_wh, "
        f"quality = CASE WHEN excluded.quality = '{_INTERPOLATED}' THEN excluded.quality "
        f"ELSE {table}.quality END"
    )
    values = [
        (point_id, hour, source, quality, inj, wdr)
        for point_id, hour, inj, wdr, quality in additions
    ]
    with connection.cursor() as cursor:
        if values:
            for sql, params in _row_statements(head, tail, columns, values):
                cursor.execute(sql, params)
        if corrections:
            cursor.executemany(
                f"UPDATE {table} SET injected_wh = injected_wh + %s, "  # noqa: S608 - fixed names
                "withdrawn_wh = withdrawn_wh + %s, "
                f"quality = CASE WHEN %s = '{_INTERPOLATED}' THEN %s ELSE quality END "
                "WHERE connection_point_id = %s AND hour_start = %s AND source = %s",
                [
                    (inj, wdr, quality, quality, point_id, hour, source)
                    for point_id, hour, inj, wdr, quality in corrections
                ],
            )


# --- staged upserts ---------------------------------------------------------------------


def upsert_hourly(rows: HourlyRows, *, source: str, replace: bool) -> tuple[int, int]:
    """Write the rows as readings of `source`; return (superseded, inserted) row counts.

    New hours are inserted. With `replace`, stored rows whose values differ are updated:
    a quantity the rows do not carry (has_* False) keeps its stored value, and so does the
    quality when the rows carry none. Without `replace`, stored rows are left as they are.
    Must run inside a transaction (the stage is dropped on commit on PostgreSQL).
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGE} (point_id bigint NOT NULL, "
                "hour_start timestamptz NOT NULL, injected_wh bigint NOT NULL, "
                "withdrawn_wh bigint NOT NULL, has_injected boolean NOT NULL, "
                "has_withdrawn boolean NOT NULL, quality smallint NOT NULL) ON COMMIT DROP"
            )
            _copy_stage(cursor, rows)
            cursor.execute(f"ANALYZE {_STAGE}")
        else:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_STAGE} (point_id integer NOT NULL, "
                "hour_start text NOT NULL, injected_wh integer NOT NULL, "
                "withdrawn_wh integer NOT NULL, has_injected integer NOT NULL, "
                "has_withdrawn integer NOT NULL, quality integer NOT NULL)"
            )
            _insert_stage(cursor, rows)
        superseded = _update_from_stage(cursor, source) if replace else 0
        inserted = _insert_from_stage(cursor, source)
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
    return superseded, inserted


def _flags(rows: HourlyRows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return has_injected, has_withdrawn and the quality index of every row."""
    size = len(rows)
    everywhere = np.ones(size, dtype=bool)
    has_injected = everywhere if rows.has_injected is None else rows.has_injected
    has_withdrawn = everywhere if rows.has_withdrawn is None else rows.has_withdrawn
    if rows.quality is None:
        quality = np.full(size, NO_QUALITY, dtype=np.int16)
    else:
        index = {code: number for number, code in enumerate(QUALITY_CODES)}
        codes, inverse = np.unique(np.asarray(rows.quality, dtype=str), return_inverse=True)
        quality = np.array([index[str(code)] for code in codes], dtype=np.int16)[inverse]
    return has_injected, has_withdrawn, quality


def _copy_stage(cursor, rows: HourlyRows) -> None:
    """Stream the rows with PostgreSQL's binary COPY, built as one NumPy record array."""
    fields = [("count", ">i2")]
    for name, kind in (
        ("point", ">i8"),
        ("hour", ">i8"),
        ("injected", ">i8"),
        ("withdrawn", ">i8"),
        ("has_injected", "u1"),
        ("has_withdrawn", "u1"),
        ("quality", ">i2"),
    ):
        fields += [(f"{name}_length", ">i4"), (name, kind)]
    layout = np.dtype(fields)
    has_injected, has_withdrawn, quality = _flags(rows)
    raw = cursor.cursor  # the psycopg cursor behind Django's wrapper
    with raw.copy(f"COPY {_STAGE} FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))
        for first in range(0, len(rows), _COPY_SLICE):
            part = slice(first, first + _COPY_SLICE)
            size = len(rows.point_id[part])
            block = np.empty(size, layout)
            block["count"] = 7
            for name in ("point", "hour", "injected", "withdrawn"):
                block[f"{name}_length"] = 8
            block["has_injected_length"] = 1
            block["has_withdrawn_length"] = 1
            block["quality_length"] = 2
            block["point"] = rows.point_id[part]
            block["hour"] = (rows.hour_start_s[part] - _PG_EPOCH_S) * 1_000_000
            block["injected"] = rows.injected_wh[part]
            block["withdrawn"] = rows.withdrawn_wh[part]
            block["has_injected"] = has_injected[part]
            block["has_withdrawn"] = has_withdrawn[part]
            block["quality"] = quality[part]
            copy.write(block.tobytes())
        copy.write(b"\xff\xff")


def _insert_stage(cursor, rows: HourlyRows) -> None:
    adapt = connection.ops.adapt_datetimefield_value
    stamps = {
        int(s): adapt(dt.datetime.fromtimestamp(int(s), dt.UTC))
        for s in np.unique(rows.hour_start_s).tolist()
    }
    has_injected, has_withdrawn, quality = _flags(rows)
    values = zip(
        rows.point_id.tolist(),
        (stamps[s] for s in rows.hour_start_s.tolist()),
        rows.injected_wh.tolist(),
        rows.withdrawn_wh.tolist(),
        has_injected.astype(int).tolist(),
        has_withdrawn.astype(int).tolist(),
        quality.tolist(),
        strict=True,
    )
    sql = f"INSERT INTO {_STAGE} VALUES (%s, %s, %s, %s, %s, %s, %s)"  # noqa: S608 (constant)
    batch: list[tuple] = []
    for row in values:
        batch.append(row)
        if len(batch) >= _SQLITE_SLICE:
            cursor.executemany(sql, batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)


def _column(name: str) -> str:
    field = HourlyReading._meta.get_field(name)
    assert isinstance(field, Field)
    return connection.ops.quote_name(field.column)


def _columns() -> dict[str, str]:
    names = ("connection_point", "hour_start", "injected_wh", "withdrawn_wh", "source", "quality")
    return {name: _column(name) for name in names}


def _quality_case(stage_column: str, otherwise: str) -> str:
    """SQL turning the stage's quality number into its code (fixed codes, no user input)."""
    whens = " ".join(f"WHEN {number} THEN '{code}'" for number, code in enumerate(QUALITY_CODES))
    return f"CASE {stage_column} {whens} ELSE {otherwise} END"


def _update_from_stage(cursor, source: str) -> int:
    """Update the stored rows of `source` whose values differ; return how many."""
    table = connection.ops.quote_name(HourlyReading._meta.db_table)
    column = _columns()
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    quality = _quality_case("s.quality", f"t.{column['quality']}")
    # A quantity the rows do not carry (has_* false) keeps the stored value: a file of
    # withdrawals only must not zero the injections imported from another file.
    cursor.execute(
        f"UPDATE {table} AS t SET "  # noqa: S608 (names from the model, values bound)
        f"{column['injected_wh']} = CASE WHEN s.has_injected = {true} "
        f"THEN s.injected_wh ELSE t.{column['injected_wh']} END, "
        f"{column['withdrawn_wh']} = CASE WHEN s.has_withdrawn = {true} "
        f"THEN s.withdrawn_wh ELSE t.{column['withdrawn_wh']} END, "
        f"{column['quality']} = {quality} "
        f"FROM {_STAGE} AS s "
        f"WHERE t.{column['connection_point']} = s.point_id "
        f"AND t.{column['hour_start']} = s.hour_start AND t.{column['source']} = %s "
        f"AND ((s.has_injected = {true} AND t.{column['injected_wh']} <> s.injected_wh) "
        f"OR (s.has_withdrawn = {true} AND t.{column['withdrawn_wh']} <> s.withdrawn_wh) "
        f"OR (s.quality <> {NO_QUALITY} AND t.{column['quality']} <> {quality}))",
        [source],
    )
    return cursor.rowcount


def _insert_from_stage(cursor, source: str) -> int:
    """Insert the rows of hours `source` has no reading for; return how many."""
    table = connection.ops.quote_name(HourlyReading._meta.db_table)
    column = _columns()
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    quality = _quality_case("quality", f"'{ReadingQuality.VALID.value}'")
    cursor.execute(
        f"INSERT INTO {table} ({column['connection_point']}, {column['hour_start']}, "  # noqa: S608
        f"{column['injected_wh']}, {column['withdrawn_wh']}, {column['source']}, "
        f"{column['quality']}) "
        f"SELECT point_id, hour_start, injected_wh, withdrawn_wh, %s, {quality} FROM {_STAGE} "
        # SQLite needs a WHERE before ON CONFLICT to parse INSERT ... SELECT ... ON CONFLICT.
        f"WHERE {true} = {true} "
        f"ON CONFLICT ({column['connection_point']}, {column['hour_start']}, "
        f"{column['source']}) DO NOTHING",
        [source],
    )
    return cursor.rowcount


# --- idempotency keys and helpers -------------------------------------------------------


def insert_returning(
    table: str,
    columns: dict[str, str],
    rows: list[tuple[Any, ...]],
    *,
    conflict: list[str],
    returning: list[str],
) -> list[tuple[Any, ...]]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: the rows that were really new.

    `columns` maps each column to its PostgreSQL type. On PostgreSQL the rows travel
    as one array per column (unnest), which keeps the statement short however many
    rows there are; other databases get a multi-row VALUES list.
    """
    head = f"INSERT INTO {table} ({', '.join(columns)}) "
    tail = f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING RETURNING {', '.join(returning)}"
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for sql, params in _row_statements(head, tail, columns, rows):
            cursor.execute(sql, params)
            inserted.extend(cursor.fetchall())
    return inserted


def _row_statements(
    head: str, tail: str, columns: dict[str, str], rows: list[tuple[Any, ...]]
) -> Iterator[tuple[str, list[Any]]]:
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in columns.values())
        yield (
            f"{head}SELECT * FROM unnest({arrays}){tail}",  # noqa: S608 - fixed names
            array_literals(rows),
        )
        return
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for chunk in _chunks(rows, 500):
        values = ", ".join([placeholder] * len(chunk))
        yield f"{head}VALUES {values}{tail}", [value for row in chunk for value in row]


def select_with_rows(
    name: str, columns: dict[str, str], rows: Sequence[Sequence[Any]], select: str
) -> list[tuple[Any, ...]]:
    """Run `select` with `rows` as a table `name(columns)` and return what it finds.

    `columns` maps each column to its PostgreSQL type. On PostgreSQL the rows travel as one
    array per column (unnest) in one statement; SQLite gets VALUES lists in chunks, under
    its limit on bound parameters (so `select` must not aggregate across the rows).
    """
    if not rows:
        return []
    head = f"WITH {name}({', '.join(columns)}) AS "
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for kind in columns.values())
            statement = f"{head}(SELECT * FROM unnest({arrays})) {select}"  # noqa: S608
            cursor.execute(statement, array_literals(rows))
            return cursor.fetchall()
        placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for chunk in _chunks(list(rows), max(1, 800 // len(columns))):
            values = ", ".join([placeholder] * len(chunk))
            cursor.execute(
                f"{head}(VALUES {values}) {select}", [value for row in chunk for value in row]
            )
            found += cursor.fetchall()
    return found


def _chunks(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def array_literals(rows: Sequence[Sequence[Any]]) -> list[str]:
    """Return one PostgreSQL array literal ('{1,2,3}') per column of `rows`, for %s::type[].

    psycopg adapts a list parameter element by element and quotes each with a regular
    expression: for the arrays of a device batch (tens of thousands of elements) that was
    the slowest step of recording. One string per column, cast by the server, carries the
    same values. Integers travel bare, None as NULL, datetimes as ISO 8601 (aware ones
    keep their offset) and anything else as a quoted string with its quotes and
    backslashes escaped.
    """
    return ["{" + ",".join(_array_elements(column)) + "}" for column in zip(*rows, strict=True)]


def _array_elements(column: tuple[Any, ...]) -> Iterator[str]:
    # The columns of a batch hold one type each: format a whole column of plain integers
    # or aware datetimes (ISO 8601 needs no quotes in an array) without a test per value.
    kinds = set(map(type, column))
    if kinds == {int}:
        return map(str, column)
    if kinds == {dt.datetime} and all(value.tzinfo is not None for value in column):
        return map(dt.datetime.isoformat, column)
    return map(_array_element, column)


def _array_element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if isinstance(value, dt.datetime) else str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def time_adapter() -> Callable[[dt.datetime], Any]:
    """Return db_time's conversion, looked up once: loops over a batch call it per value."""
    return connection.ops.adapt_datetimefield_value


def db_time(moment: dt.datetime) -> Any:
    """Adapt an aware datetime for raw SQL the way the ORM does (naive UTC on SQLite)."""
    return connection.ops.adapt_datetimefield_value(moment)


def from_db_time(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
