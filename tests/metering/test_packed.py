"""Packed months: the settlement reader gives the same readings from a packed month as from the
rows, a write into a packed month unpacks it, and only ended months are packed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cer.metering import packed, series
from cer.metering.batches import HourlyRows, WriteMode
from cer.metering.models import HourlyReading, PackedMonth
from cer.metering.recording import write_hourly
from cercalc import periods
from tests import factories

pytestmark = pytest.mark.django_db

# October 2026 ends summer time on the 25th (a 25-hour day); March 2026 starts it on the
# 29th (a 23-hour day).
OCTOBER = periods.month(2026, 10)
MARCH = periods.month(2026, 3)
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def points():
    community = factories.make_community(name="CER Pacchetti")
    return [
        factories.make_connection_point(community, factories.make_member(first_name=name))
        for name in ("Anna", "Bruno")
    ]


def _rows(point_id: int, period, *, source: str, withdrawn: int, quality: str = "OK", every=1):
    return [
        HourlyReading(
            connection_point_id=point_id,
            hour_start=dt.datetime.fromtimestamp(start, tz=dt.UTC),
            injected_wh=(index % 5) * 10,
            withdrawn_wh=withdrawn + index % 7,
            source=source,
            quality=quality,
        )
        for index, start in enumerate(period.hour_starts_s().tolist())
        if index % every == 0
    ]


def _grid(ids, period):
    start, _end = period.utc_bounds_s()
    return series.winning_readings(point_ids=ids, first_hour_s=start, hour_count=period.hours)


def _same(left, right):
    for name in ("injected_wh", "withdrawn_wh", "source_index", "not_measured"):
        np.testing.assert_array_equal(getattr(left, name), getattr(right, name), err_msg=name)


def test_the_packed_month_reads_like_its_rows(points):
    anna, bruno = (p.pk for p in points)
    HourlyReading.objects.bulk_create(
        _rows(anna, OCTOBER, source="DSO", withdrawn=400)
        + _rows(anna, OCTOBER, source="DEV", withdrawn=380, every=3)
        + _rows(bruno, OCTOBER, source="EST", withdrawn=900, quality="EST", every=2)
    )
    year = periods.Period(dt.date(2026, 9, 1), dt.date(2026, 12, 1))
    before = _grid([anna, bruno], year)
    day = periods.day(dt.date(2026, 10, 25))  # the 25-hour day, inside the packed month
    day_before = _grid([anna, bruno], day)

    assert packed.pack_months([anna, bruno], OCTOBER, NOW) == 3
    assert PackedMonth.objects.count() == 3
    shape = (2, OCTOBER.hours)
    target = packed.GridTarget(
        OCTOBER.utc_bounds_s()[0],
        np.zeros(shape, dtype=np.int64),
        np.zeros(shape, dtype=np.int64),
        np.full(shape, -1, dtype=np.int8),
        np.zeros(shape, dtype=bool),
    )
    covered = packed.read_into(
        target,
        [anna, bruno],
        source_numbers={"DSO": 0, "DEV": 1},
        other_source=9,
        rank=lambda: np.tile(np.arange(10), (2, 1)),  # the lower number wins
    )
    assert len(covered) == 2
    assert (target.source_index >= 0).sum(axis=1).tolist() == [745, 373]
    assert target.withdrawn_wh[0, 0] == 400 and target.source_index[0, 0] == 0

    _same(_grid([anna, bruno], year), before)
    _same(_grid([anna, bruno], day), day_before)
    assert day.hours == 25
    # The source the community trusts most wins in the copy too: the grid operator's.
    assert _grid([anna], OCTOBER).withdrawn_wh[0, 0] == 400


def test_a_point_without_readings_is_packed_as_empty(points):
    anna, bruno = (p.pk for p in points)
    HourlyReading.objects.bulk_create(_rows(anna, MARCH, source="DSO", withdrawn=100))
    assert packed.pack_months([anna, bruno], MARCH, NOW) == 1
    assert PackedMonth.objects.filter(connection_point_id=bruno, source="").exists()
    grid = _grid([anna, bruno], MARCH)
    assert MARCH.hours == 743
    assert grid.present[0].all() and not grid.present[1].any()


def test_a_write_into_a_packed_month_unpacks_it(points):
    anna = points[0].pk
    HourlyReading.objects.bulk_create(_rows(anna, OCTOBER, source="DSO", withdrawn=400))
    packed.pack_months([anna], OCTOBER, NOW)
    first_hour = OCTOBER.utc_bounds_s()[0]
    write_hourly(
        rows=HourlyRows(
            point_id=np.array([anna], dtype=np.int64),
            hour_start_s=np.array([first_hour], dtype=np.int64),
            injected_wh=np.array([0], dtype=np.int64),
            withdrawn_wh=np.array([123], dtype=np.int64),
        ),
        source="DSO",
        mode=WriteMode.REPLACE,
        now=NOW,
    )
    assert not PackedMonth.objects.exists()
    assert HourlyReading.objects.filter(connection_point_id=anna).count() == OCTOBER.hours
    assert _grid([anna], OCTOBER).withdrawn_wh[0, 0] == 123
    assert _grid([anna], OCTOBER).withdrawn_wh[0, 1] == 401  # the other hours as they were


def test_a_write_into_the_current_month_leaves_packed_months_alone(points):
    anna = points[0].pk
    HourlyReading.objects.bulk_create(_rows(anna, OCTOBER, source="DSO", withdrawn=400))
    packed.pack_months([anna], OCTOBER, NOW)
    december = periods.month(2026, 12).utc_bounds_s()[0]
    write_hourly(
        rows=HourlyRows(
            point_id=np.array([anna], dtype=np.int64),
            hour_start_s=np.array([december], dtype=np.int64),
            injected_wh=np.array([0], dtype=np.int64),
            withdrawn_wh=np.array([50], dtype=np.int64),
        ),
        source="DEV",
        mode=WriteMode.ADD,
        now=NOW,
    )
    assert PackedMonth.objects.count() == 1


def test_a_month_that_has_not_ended_is_not_packed(points):
    with pytest.raises(ValueError, match="has not ended"):
        packed.pack_months([points[0].pk], periods.month(2026, 12), NOW)


def test_the_periodic_packer_packs_ended_months_once(points):
    anna, bruno = (p.pk for p in points)
    november = periods.month(2026, 11)
    HourlyReading.objects.bulk_create(
        _rows(anna, OCTOBER, source="DSO", withdrawn=400)
        + _rows(bruno, november, source="DSO", withdrawn=300)
    )
    # On 1 December November has just ended: too early (late device messages come first).
    assert packed.pack_closed_months(dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)) == 1
    assert packed.pack_closed_months(NOW) == 1  # now November, for Bruno only
    assert packed.pack_closed_months(NOW) == 0
    assert set(PackedMonth.objects.values_list("connection_point_id", "source")) == {
        (anna, "DSO"),
        (bruno, "DSO"),
    }


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(
        st.tuples(
            st.integers(0, 1),  # point
            st.integers(0, OCTOBER.hours - 1),  # hour of the month
            st.sampled_from(["DSO", "DEV", "MAN", "EST"]),
            st.integers(0, 5000),
            st.sampled_from(["OK", "EST", "INT"]),
        ),
        max_size=60,
    ),
    pack_first=st.booleans(),
)
def test_packing_never_changes_what_is_read(points, cells, pack_first):
    HourlyReading.objects.all().delete()
    PackedMonth.objects.all().delete()
    ids = [p.pk for p in points]
    start = OCTOBER.utc_bounds_s()[0]
    unique = {(point, hour, source): (wh, quality) for point, hour, source, wh, quality in cells}
    HourlyReading.objects.bulk_create(
        HourlyReading(
            connection_point_id=ids[point],
            hour_start=dt.datetime.fromtimestamp(start + 3600 * hour, tz=dt.UTC),
            injected_wh=wh // 2,
            withdrawn_wh=wh,
            source=source,
            quality=quality,
        )
        for (point, hour, source), (wh, quality) in unique.items()
    )
    span = periods.Period(dt.date(2026, 10, 20), dt.date(2026, 11, 3))
    before = _grid(ids, span)
    packed.pack_months(ids[:1] if pack_first else ids, OCTOBER, NOW)
    _same(_grid(ids, span), before)
