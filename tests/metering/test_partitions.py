"""Monthly partitions of the readings table on PostgreSQL: rows land in their month's
partition (or DEFAULT), a partition made later takes its rows over from DEFAULT, the periodic
job makes the coming months, and a one-month read touches one partition."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cer.core import periodic
from cer.metering import partitions, series
from cer.metering.models import HourlyReading
from cercalc import periods
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="partitions are a PostgreSQL feature; SQLite keeps one table",
    ),
]

OCTOBER = periods.month(2024, 10)


def _where_rows_are() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM metering_hourlyreading GROUP BY 1"
        )
        return dict(cursor.fetchall())


@pytest.fixture
def point(db):
    community = factories.make_community(name="CER Partizioni")
    return factories.make_connection_point(community, factories.make_member())


def _october_rows(point_id: int) -> None:
    HourlyReading.objects.bulk_create(
        HourlyReading(
            connection_point_id=point_id,
            hour_start=dt.datetime.fromtimestamp(start, tz=dt.UTC),
            withdrawn_wh=100,
            source="DSO",
        )
        for start in OCTOBER.hour_starts_s().tolist()
    )


def test_a_month_partition_made_later_takes_its_rows_from_default(point):
    _october_rows(point.pk)
    assert _where_rows_are() == {partitions.DEFAULT: OCTOBER.hours}

    with connection.cursor() as cursor:
        assert partitions.ensure_month(cursor, OCTOBER)
        assert not partitions.ensure_month(cursor, OCTOBER)  # made once

    assert _where_rows_are() == {partitions.name_of(OCTOBER): OCTOBER.hours}
    # The first hour of the month is 22:00 UTC of 30 September (summer time).
    first = HourlyReading.objects.order_by("hour_start").first()
    assert first.hour_start == dt.datetime(2024, 9, 30, 22, tzinfo=dt.UTC)


def test_the_periodic_job_makes_this_month_and_the_next_three():
    now = dt.datetime(2031, 2, 10, 12, tzinfo=dt.UTC)
    job = {job.name: job for job in periodic.all_jobs()}["metering.partitions_ahead"]
    made = job.run(now)
    assert made == (
        "made partitions metering_hourlyreading_p2031_02, metering_hourlyreading_p2031_03, "
        "metering_hourlyreading_p2031_04, metering_hourlyreading_p2031_05"
    )
    assert job.run(now) == ""


def test_a_one_month_read_touches_one_partition(point):
    _october_rows(point.pk)
    with connection.cursor() as cursor:
        for month in (OCTOBER.previous(), OCTOBER, OCTOBER.next()):
            partitions.ensure_month(cursor, month)
    with CaptureQueriesContext(connection) as captured:
        series.present_hours_by_point(point_ids=[point.pk], period=OCTOBER)
        series.configuration_hourly_wh(point_ids=[point.pk], period=OCTOBER)
        start, end = OCTOBER.utc_bounds()
        series.point_readings(point_id=point.pk, start=start, end=end)
    reads = [q["sql"] for q in captured if "metering_hourlyreading" in q["sql"]]
    assert len(reads) == 3
    for sql in reads:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        touched = set(re.findall(r"metering_hourlyreading_(p\d{4}_\d{2}|default)", plan))
        assert touched == {"p2024_10"}, plan
