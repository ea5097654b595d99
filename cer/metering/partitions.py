"""Monthly partitions of the hourly readings table on PostgreSQL (SQLite keeps one table).

On PostgreSQL `metering_hourlyreading` is partitioned by range of `hour_start`, one
partition per Europe/Rome month (the months settlements, packing and dashboards read), named
`metering_hourlyreading_pYYYY_MM`, plus a DEFAULT partition that catches any hour no month
partition holds (a late import years back, a device with a wrong clock). The primary key is
(id, hour_start) and the unique constraint (point, hour start, source) already holds the
partition column, as PostgreSQL requires.

A query that bounds `hour_start` reads only the partitions of its period (every reader in
cer/metering/series.py bounds it). Partitions are made ahead of time by the periodic job
`metering.partitions_ahead` (cer/metering/periodic_jobs.py) and, for the months that held
data, by migration 0007. A month partition made while the DEFAULT partition holds rows of
that month takes them over (`ensure_month`), so nothing is left behind in DEFAULT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from cercalc import periods
from cercalc.periods import ROME, Period

TABLE = "metering_hourlyreading"
DEFAULT = f"{TABLE}_default"
AHEAD_MONTHS = 3


def name_of(month: Period) -> str:
    """Return the partition's table name of a month: metering_hourlyreading_p2025_06."""
    return f"{TABLE}_p{month.start.year:04d}_{month.start.month:02d}"


def is_partitioned(cursor: Any) -> bool:
    """Tell whether the readings table is a partitioned table (PostgreSQL only)."""
    cursor.execute(
        "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = %s AND n.nspname = current_schema()",
        [TABLE],
    )
    row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def existing(cursor: Any) -> set[str]:
    """Return the names of the readings table's partitions."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
        [TABLE],
    )
    return {row[0] for row in cursor.fetchall()}


def ensure_month(cursor: Any, month: Period) -> bool:
    """Create the month's partition unless it exists; return whether it was created.

    Rows of the month already in DEFAULT are moved into the new table before it is attached
    (PostgreSQL refuses to attach a range the DEFAULT partition holds rows of). Run inside a
    transaction: the move and the attach commit together.
    """
    name = name_of(month)
    if name in existing(cursor):
        return False
    start, end = month.utc_bounds()
    cursor.execute(
        f'CREATE TABLE "{name}" (LIKE "{TABLE}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
    )
    if DEFAULT in existing(cursor):
        cursor.execute(
            f'WITH moved AS (DELETE FROM "{DEFAULT}" WHERE hour_start >= %s AND hour_start < %s '  # noqa: S608 (fixed names)
            f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved',
            [start, end],
        )
    cursor.execute(
        f'ALTER TABLE "{TABLE}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)',
        [start, end],
    )
    return True


def month_of(moment: dt.datetime) -> Period:
    return periods.month_of(moment.astimezone(ROME).date())


def ensure_ahead(now: dt.datetime, *, ahead: int = AHEAD_MONTHS) -> list[str]:
    """Make the partitions of this month and the next `ahead` months; return those made.

    Does nothing where the table is not partitioned (SQLite, or before migration 0007).
    """
    if connection.vendor != "postgresql":
        return []
    made: list[str] = []
    month = month_of(now)
    with transaction.atomic(), connection.cursor() as cursor:
        if not is_partitioned(cursor):
            return []
        for _ in range(ahead + 1):
            if ensure_month(cursor, month):
                made.append(name_of(month))
            month = month.next()
    return made


# --- statistics after bulk writes ---------------------------------------------------------

# A write of at least this many rows refreshes the planner's statistics of the partitions
# it wrote at once, instead of waiting for autovacuum: a plan made from the statistics of
# an empty partition (a month just imported, or just emptied by the packer) scans.
BULK_ROWS = 50_000
PACKED_TABLE = "metering_packedmonth"


def analyze(months: Iterable[Period], *, packed: bool = False) -> list[str]:
    """ANALYZE the months' partitions (and the packed months with `packed`); return them.

    A month without a partition of its own is analysed in DEFAULT. PostgreSQL only (SQLite
    plans without such statistics); on a table not partitioned, the whole table.
    """
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        if is_partitioned(cursor):
            present = existing(cursor)
            tables = {name_of(m) if name_of(m) in present else DEFAULT for m in months}
            tables &= present
        else:
            tables = {TABLE} if months else set()
        if packed:
            tables.add(PACKED_TABLE)
        for table in sorted(tables):
            cursor.execute(f'ANALYZE "{table}"')
    return sorted(tables)


def analyze_after_commit(first_hour_s: int, last_hour_s: int, *, rows: int) -> None:
    """After a write of `rows` rows between these hours commits, ANALYZE its months if many."""
    if rows < BULK_ROWS or connection.vendor != "postgresql":
        return
    months = [month_of(dt.datetime.fromtimestamp(first_hour_s, tz=dt.UTC))]
    last = month_of(dt.datetime.fromtimestamp(last_hour_s, tz=dt.UTC))
    while months[-1].start < last.start:
        months.append(months[-1].next())
    transaction.on_commit(lambda: analyze(months), robust=True)


# --- the migration's two directions --------------------------------------------------------

_COLUMNS = (
    '"id" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY, '
    '"hour_start" timestamp with time zone NOT NULL, "injected_wh" bigint NOT NULL, '
    '"withdrawn_wh" bigint NOT NULL, "source" varchar(3) NOT NULL, '
    '"quality" varchar(3) NOT NULL, "connection_point_id" bigint NOT NULL '
    'REFERENCES "plants_connectionpoint" ("id") DEFERRABLE INITIALLY DEFERRED, '
    'CONSTRAINT "hourly_reading_one_per_point_hour_source" '
    'UNIQUE ("connection_point_id", "hour_start", "source"), '
    'CONSTRAINT "hourly_reading_energy_not_negative" '
    'CHECK (("injected_wh" >= 0 AND "withdrawn_wh" >= 0))'
)
_COPY = (
    'INSERT INTO "{to}" (id, hour_start, injected_wh, withdrawn_wh, source, quality, '
    "connection_point_id) SELECT id, hour_start, injected_wh, withdrawn_wh, source, quality, "
    'connection_point_id FROM "{src}"'
)


def _set_identity(cursor: Any) -> None:
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('\"{TABLE}\"', 'id'), "  # noqa: S608 (fixed names)
        f'COALESCE((SELECT max(id) FROM "{TABLE}"), 0) + 1, false)'
    )


def partition(cursor: Any, now: dt.datetime) -> None:
    """Turn the plain readings table into the partitioned one, moving every row."""
    if is_partitioned(cursor):
        return
    old = f"{TABLE}_unpartitioned"
    cursor.execute(f'ALTER TABLE "{TABLE}" RENAME TO "{old}"')
    # Index and constraint names are unique per schema: free them for the new table.
    cursor.execute(
        f'ALTER TABLE "{old}" DROP CONSTRAINT "hourly_reading_one_per_point_hour_source"'
    )
    cursor.execute('DROP INDEX IF EXISTS "hourly_reading_hour_idx"')
    cursor.execute(
        f'CREATE TABLE "{TABLE}" ({_COLUMNS}, PRIMARY KEY ("id", "hour_start")) '
        'PARTITION BY RANGE ("hour_start")'
    )
    cursor.execute(f'CREATE INDEX "hourly_reading_hour_idx" ON "{TABLE}" ("hour_start")')
    cursor.execute(f'CREATE TABLE "{DEFAULT}" PARTITION OF "{TABLE}" DEFAULT')
    cursor.execute(
        "SELECT DISTINCT date_trunc('month', hour_start AT TIME ZONE 'Europe/Rome')::date "  # noqa: S608
        f'FROM "{old}"'
    )
    months = {periods.month(day.year, day.month) for (day,) in cursor.fetchall()}
    month = month_of(now)
    for _ in range(AHEAD_MONTHS + 1):
        months.add(month)
        month = month.next()
    for each in sorted(months, key=lambda m: m.start):
        ensure_month(cursor, each)
    cursor.execute(_COPY.format(to=TABLE, src=old))
    cursor.execute(f'DROP TABLE "{old}"')
    _set_identity(cursor)


def unpartition(cursor: Any) -> None:
    """Turn the partitioned readings table back into one plain table (migration reversed)."""
    if not is_partitioned(cursor):
        return
    old = f"{TABLE}_partitioned"
    cursor.execute(f'ALTER TABLE "{TABLE}" RENAME TO "{old}"')
    cursor.execute(
        f'ALTER TABLE "{old}" DROP CONSTRAINT "hourly_reading_one_per_point_hour_source"'
    )
    cursor.execute('DROP INDEX IF EXISTS "hourly_reading_hour_idx"')
    cursor.execute(f'CREATE TABLE "{TABLE}" ({_COLUMNS}, PRIMARY KEY ("id"))')
    cursor.execute(f'CREATE INDEX "hourly_reading_hour_idx" ON "{TABLE}" ("hour_start")')
    cursor.execute(_COPY.format(to=TABLE, src=old))
    cursor.execute(f'DROP TABLE "{old}" CASCADE')
    _set_identity(cursor)
