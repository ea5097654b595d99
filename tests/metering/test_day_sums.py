"""The alerts' day figures are the same whether a month is in rows or packed.

The rows are summed by the database, the packed months in bulk with NumPy (a month's packed
rows as one points x hours matrix, each day a slice of columns): for any readings and any
days, both give the same figures per point and source.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cer.metering import day_sums, packed
from cer.metering.models import HourlyReading, PackedMonth
from cercalc import periods
from tests import factories

pytestmark = pytest.mark.django_db

OCTOBER = periods.month(2026, 10)  # 745 hours: summer time ends on the 25th
NOVEMBER = periods.month(2026, 11)
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
# October's days, the last of September (no reading) and the first of November.
DAYS = (
    [dt.date(2026, 9, 30)] + [dt.date(2026, 10, d) for d in range(1, 32)] + [dt.date(2026, 11, 1)]
)


@pytest.fixture
def community_points(db):
    community = factories.make_community(name="CER Giorni")
    points = [
        factories.make_connection_point(community, factories.make_member()).pk for _ in range(3)
    ]
    return community, points


def _figures(community_id, hour_days, withdrawn_days, injected_days):
    rows = day_sums.day_sums_by_point_source(
        community_ids=[community_id],
        hour_days=hour_days,
        withdrawn_days=withdrawn_days,
        injected_days=injected_days,
    )
    # A point's rows (one per source) may differ first where one has None (no reading
    # that day) and the other a figure: order them with None first, not by comparing both.
    return sorted(
        rows, key=lambda row: [(value is not None, 0 if value is None else value) for value in row]
    )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.integers(0, OCTOBER.hours + 30),  # a few hours into November
            st.sampled_from(["DSO", "DEV", "EST"]),
            st.integers(0, 5000),
        ),
        max_size=60,
    ),
    hour_days=st.lists(st.sampled_from(DAYS), min_size=1, max_size=4),
    withdrawn_days=st.lists(st.sampled_from(DAYS), max_size=4),
    injected_days=st.lists(st.sampled_from(DAYS), max_size=2),
)
def test_packed_days_give_the_figures_of_the_rows(
    community_points, cells, hour_days, withdrawn_days, injected_days
):
    community, ids = community_points
    start = OCTOBER.utc_bounds_s()[0]
    HourlyReading.objects.all().delete()
    PackedMonth.objects.all().delete()
    unique = {(point, hour, source): wh for point, hour, source, wh in cells}
    HourlyReading.objects.bulk_create(
        HourlyReading(
            connection_point_id=ids[point],
            hour_start=dt.datetime.fromtimestamp(start + 3600 * hour, tz=dt.UTC),
            injected_wh=wh // 3,
            withdrawn_wh=wh,
            source=source,
        )
        for (point, hour, source), wh in unique.items()
    )
    days = (hour_days, withdrawn_days, injected_days)
    from_rows = _figures(community.pk, *days)

    packed.pack_months(ids, OCTOBER, NOW)  # November stays in rows

    assert _figures(community.pk, *days) == from_rows
    # The figures are the readings' own: a day's hours over every (point, source) row add
    # up to the readings of that day, each counted once by its source.
    for position, day in enumerate(hour_days):
        low, high = (int(moment.timestamp()) for moment in periods.day(day).utc_bounds())
        inside = sum(1 for (_p, hour, _s) in unique if low <= start + 3600 * hour < high)
        assert sum(row[3 + position] for row in from_rows) == inside
