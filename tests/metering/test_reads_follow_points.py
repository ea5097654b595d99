"""On PostgreSQL, reading some points' readings reads those points' rows, not the table's.

A month partition holds the rows of many other points; the month read of the settlement and
the dashboards, and the newest reading of the points, must examine (scan or filter out) a
number of rows that follows the points read. Counted from EXPLAIN ANALYZE, not timed: a
sequential scan of the partition, or a walk back through the hour index that filters out
the other points' rows, fails whatever the machine's speed.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cer.metering import partitions, series
from cer.metering.models import HourlyReading
from cercalc import periods
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="query plans of the partitioned table: PostgreSQL only",
    ),
]

MARCH = periods.month(2025, 3)  # 743 hours: summer time begins on the 30th
OTHERS = 60  # points of another community in the same partition


@pytest.fixture
def points(db):
    """Two points of ours, silent in the last week, and many points of another community."""
    ours = factories.make_community(name="CER Nostra")
    theirs = factories.make_community(name="CER Altrui")
    mine = [factories.make_connection_point(ours, factories.make_member()).pk for _ in range(2)]
    holder = factories.make_member()
    others = [factories.make_connection_point(theirs, holder).pk for _ in range(OTHERS)]
    with connection.cursor() as cursor:
        partitions.ensure_month(cursor, MARCH)
    hours = MARCH.hour_starts_s()
    rows = []
    for point_id in mine + others:
        # Ours stop a week before the end of the month: every other point has newer rows.
        last = hours.size - (24 * 7 if point_id in mine else 0)
        rows += [
            HourlyReading(
                connection_point_id=point_id,
                hour_start=dt.datetime.fromtimestamp(start, tz=dt.UTC),
                withdrawn_wh=100 + index % 50,
                injected_wh=index % 3,
                source="DSO",
            )
            for index, start in enumerate(hours[:last].tolist())
        ]
    HourlyReading.objects.bulk_create(rows, batch_size=5000)
    # The statistics a running database has (autovacuum, or the writers' own ANALYZE).
    partitions.analyze([MARCH])
    return mine


def _rows_examined(sql: str, params: list) -> int:
    """Rows the plan's scans of the readings returned or filtered out, over all loops."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params or None)
        raw = cursor.fetchone()[0]
    plan = json.loads(raw) if isinstance(raw, str) else raw

    def walk(node: dict) -> int:
        own = 0
        if str(node.get("Relation Name", "")).startswith(partitions.TABLE):
            loops = node.get("Actual Loops", 1)
            own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops
        return own + sum(walk(child) for child in node.get("Plans", []))

    return walk(plan[0]["Plan"])


def test_a_month_of_some_points_examines_their_rows_only(points):
    start, end = MARCH.utc_bounds()
    ours = 2 * (MARCH.hours - 24 * 7)

    examined = _rows_examined(series.rows_sql_postgresql(), [points, start, end])

    assert examined == ours  # not the 60 other points' 44,580 rows
    # And the reader gives exactly those rows.
    grid = series.winning_readings(
        point_ids=points, first_hour_s=int(start.timestamp()), hour_count=MARCH.hours
    )
    assert int(grid.present.sum()) == ours
    assert int(grid.withdrawn_wh.sum()) == 2 * sum(
        100 + index % 50 for index in range(MARCH.hours - 24 * 7)
    )


def test_the_newest_reading_of_some_points_does_not_walk_through_the_others(points):
    with CaptureQueriesContext(connection) as captured:
        newest = series.latest_reading_at(points)
    reads = [q["sql"] for q in captured if partitions.TABLE in q["sql"]]
    assert len(reads) == 1
    examined = _rows_examined(reads[0], [])

    # One row per point (at most one per partition probed), never the other points' week.
    with connection.cursor() as cursor:
        partition_count = len(partitions.existing(cursor))
    assert examined <= len(points) * partition_count
    last = MARCH.hour_starts_s()[MARCH.hours - 24 * 7 - 1]
    assert newest == dt.datetime.fromtimestamp(int(last), tz=dt.UTC)
