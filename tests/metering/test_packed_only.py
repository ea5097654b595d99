"""Closed months live only packed: packing deletes the rows, every reader sees the same
readings as before, a write into a packed month unpacks it first and changes exactly the
hours it writes, and a failed pack changes nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cer.metering import day_sums, packed, series
from cer.metering.batches import HourlyRows, WriteMode
from cer.metering.models import HourlyReading, PackedMonth
from cer.metering.recording import write_hourly
from cercalc import periods
from tests import factories

pytestmark = pytest.mark.django_db

OCTOBER = periods.month(2026, 10)  # 745 hours: summer time ends on the 25th
NOVEMBER = periods.month(2026, 11)
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
SPAN = periods.Period(dt.date(2026, 10, 1), dt.date(2026, 12, 1))


@pytest.fixture
def setup(db):
    community = factories.make_community(name="CER Archivio")
    anna = factories.make_member(first_name="Anna")
    points = [
        factories.make_connection_point(community, holder)
        for holder in (anna, factories.make_member(first_name="Bruno"))
    ]
    return community, anna, [p.pk for p in points]


def _readings(point_id, period, *, source, withdrawn, quality="OK", every=1):
    return [
        HourlyReading(
            connection_point_id=point_id,
            hour_start=dt.datetime.fromtimestamp(start, tz=dt.UTC),
            injected_wh=(index % 5) * 10,
            withdrawn_wh=withdrawn + index % 7,
            source=source,
            quality=quality if index % 11 else "SUS",
        )
        for index, start in enumerate(period.hour_starts_s().tolist())
        if index % every == 0
    ]


def _load(ids):
    anna, bruno = ids
    HourlyReading.objects.bulk_create(
        _readings(anna, OCTOBER, source="DSO", withdrawn=400)
        + _readings(anna, OCTOBER, source="DEV", withdrawn=380, every=3)
        + _readings(bruno, OCTOBER, source="EST", withdrawn=900, quality="EST", every=2)
        + _readings(anna, NOVEMBER, source="DEV", withdrawn=200, quality="INT", every=5)
    )


def _everything(community, member, ids):
    """What every reader of readings gives, in comparable form."""
    start, end = SPAN.utc_bounds()
    grid = series.winning_readings(
        point_ids=ids, first_hour_s=int(start.timestamp()), hour_count=SPAN.hours
    )
    injected, withdrawn, mixed = series.configuration_hourly_wh(point_ids=ids, period=SPAN)
    days = [dt.date(2026, 10, 25), dt.date(2026, 11, 1), dt.date(2026, 10, 31)]
    return {
        "grid": [
            getattr(grid, name).tolist()
            for name in ("injected_wh", "withdrawn_wh", "source_index", "not_measured")
        ],
        "hourly": (injected.tolist(), withdrawn.tolist(), mixed),
        "present": series.present_hours_by_point(point_ids=ids, period=SPAN),
        "present_one": series.present_hours_by_point(
            point_ids=ids, period=OCTOBER, several_sources=False
        ),
        "days": sorted(
            day_sums.day_sums_by_point_source(
                community_ids=[community.pk],
                hour_days=days,
                withdrawn_days=days[:2],
                injected_days=days[2:],
            )
        ),
        "latest": series.latest_reading_at(ids),
        "point": [
            (r.hour_start, r.source, r.quality, r.injected_wh, r.withdrawn_wh)
            for point_id in ids
            for r in series.point_readings(point_id=point_id, start=start, end=end)
        ],
        "point_dso": len(
            series.point_readings(point_id=ids[0], start=start, end=end, source="DSO")
        ),
        "holder": series.holder_readings(member=member),
    }


def _row_count(ids, period):
    start, end = period.utc_bounds()
    return HourlyReading.objects.filter(
        connection_point_id__in=ids, hour_start__gte=start, hour_start__lt=end
    ).count()


def test_packing_deletes_the_rows_and_every_reader_sees_the_same(setup):
    community, anna, ids = setup
    _load(ids)
    before = _everything(community, anna, ids)
    october_rows = _row_count(ids, OCTOBER)

    assert packed.pack_months(ids, OCTOBER, NOW) == 3

    assert _row_count(ids, OCTOBER) == 0
    assert _row_count(ids, NOVEMBER) == -(-NOVEMBER.hours // 5)  # November is not packed
    assert october_rows == 745 + 745 // 3 + 1 + 373
    after = _everything(community, anna, ids)
    for key in before:
        assert after[key] == before[key], key
    # Qualities survive packing, including the suspect hours.
    assert {row["quality"] for row in after["holder"]} == {"OK", "SUS", "INT"}


def test_the_periodic_packer_deletes_rows_and_repacks_a_corrected_month(setup):
    community, anna, ids = setup
    _load(ids)
    before = _everything(community, anna, ids)

    assert packed.pack_closed_months(NOW) == 3  # two points in October, one in November
    assert HourlyReading.objects.count() == 0
    assert packed.pack_closed_months(NOW) == 0  # nothing left: a re-run does nothing
    assert _everything(community, anna, ids) == before


def _write(point_id, hours_s, withdrawn, *, source="DSO", mode=WriteMode.REPLACE):
    return write_hourly(
        rows=HourlyRows(
            point_id=np.full(len(hours_s), point_id, dtype=np.int64),
            hour_start_s=np.array(hours_s, dtype=np.int64),
            injected_wh=np.zeros(len(hours_s), dtype=np.int64),
            withdrawn_wh=np.array(withdrawn, dtype=np.int64),
        ),
        source=source,
        mode=mode,
        now=NOW,
    )


def _withdrawn(ids, period):
    start, _ = period.utc_bounds_s()
    return series.winning_readings(point_ids=ids, first_hour_s=start, hour_count=period.hours)


def test_a_correction_in_a_packed_month_changes_exactly_the_corrected_hours(setup):
    _community, _anna, ids = setup
    _load(ids)
    packed.pack_months(ids, OCTOBER, NOW)
    before = _withdrawn(ids, OCTOBER)
    first = OCTOBER.utc_bounds_s()[0]
    corrected = [first + 3600 * 5, first + 3600 * 600]

    _write(ids[0], corrected, [1, 2])
    after = _withdrawn(ids, OCTOBER)
    # The point's month is rows again, the other point's month stays packed.
    assert not PackedMonth.objects.filter(connection_point_id=ids[0], month_start__lt=NOW).exists()
    assert PackedMonth.objects.filter(connection_point_id=ids[1]).count() == 1
    changed = np.argwhere(after.withdrawn_wh != before.withdrawn_wh).tolist()
    assert changed == [[0, 5], [0, 600]]
    assert after.withdrawn_wh[0, 5] == 1 and after.withdrawn_wh[0, 600] == 2

    # Written again, then packed again, then written again: the same readings every time.
    _write(ids[0], corrected, [1, 2])
    assert packed.pack_closed_months(NOW) == 2  # Anna's October again, and her November
    _write(ids[0], corrected, [1, 2])
    packed.pack_closed_months(NOW)
    again = _withdrawn(ids, OCTOBER)
    for name in ("injected_wh", "withdrawn_wh", "source_index", "not_measured"):
        np.testing.assert_array_equal(getattr(again, name), getattr(after, name), err_msg=name)
    assert _row_count(ids, OCTOBER) == 0


def test_a_late_device_addition_in_a_packed_month_adds_to_the_packed_hour(setup):
    _community, _anna, ids = setup
    _load(ids)
    packed.pack_months(ids, OCTOBER, NOW)
    hour = OCTOBER.utc_bounds_s()[0] + 3600 * 3  # a DEV hour (every third)
    before = series.point_readings(
        point_id=ids[0],
        start=dt.datetime.fromtimestamp(hour, tz=dt.UTC),
        end=dt.datetime.fromtimestamp(hour + 3600, tz=dt.UTC),
        source="DEV",
    )[0].withdrawn_wh

    _write(ids[0], [hour], [25], source="DEV", mode=WriteMode.ADD)

    after = series.point_readings(
        point_id=ids[0],
        start=dt.datetime.fromtimestamp(hour, tz=dt.UTC),
        end=dt.datetime.fromtimestamp(hour + 3600, tz=dt.UTC),
        source="DEV",
    )
    assert [r.withdrawn_wh for r in after] == [before + 25]


def test_a_pack_that_fails_its_check_changes_nothing(setup, monkeypatch):
    _community, _anna, ids = setup
    _load(ids)
    rows = _row_count(ids, OCTOBER)
    real = packed._packed_row

    def corrupt(key, start, hours, cells, injected, withdrawn, quality, now):
        return real(key, start, hours, cells, injected + 1, withdrawn, quality, now)

    monkeypatch.setattr(packed, "_packed_row", corrupt)
    with pytest.raises(RuntimeError, match="does not decode"):
        packed.pack_months(ids, OCTOBER, NOW)

    assert _row_count(ids, OCTOBER) == rows
    assert not PackedMonth.objects.exists()


def test_the_point_page_and_the_api_show_a_packed_month_as_before(setup, client):
    community, _anna, ids = setup
    _load(ids)
    user = factories.make_user_with_role(community, role="REFERENTE", username="ref")
    client.force_login(user)
    page = reverse("dashboards:point", args=[ids[0]]) + "?period=2026-10"
    keys = ("point_totals_kwh", "present_hours", "not_measured_hours", "sources", "gaps")

    def figures():
        response = client.get(page)
        assert response.status_code == 200
        return {key: response.context.get(key) for key in keys}, response.content.count(b"<svg")

    before = figures()
    packed.pack_months(ids, OCTOBER, NOW)
    assert figures() == before


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(
        st.tuples(
            st.integers(0, 1),
            st.integers(0, OCTOBER.hours - 1),
            st.sampled_from(["DSO", "DEV", "MAN", "EST"]),
            st.integers(0, 5000),
            st.sampled_from(["OK", "EST", "INT", "SUS"]),
        ),
        max_size=40,
    ),
    corrections=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, OCTOBER.hours - 1), st.integers(0, 900)),
        max_size=6,
    ),
)
def test_packing_and_correcting_equal_correcting_the_rows(setup, cells, corrections):
    """Correcting packed months gives the readings of correcting the rows, as they are."""
    _community, _anna, ids = setup
    start = OCTOBER.utc_bounds_s()[0]
    unique = {(point, hour, source): (wh, quality) for point, hour, source, wh, quality in cells}

    def scenario(pack: bool):
        HourlyReading.objects.all().delete()
        PackedMonth.objects.all().delete()
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
        if pack:
            packed.pack_months(ids, OCTOBER, NOW)
        for point, hour, wh in corrections:
            _write(ids[point], [start + 3600 * hour], [wh], source="MAN")
        if pack:
            packed.pack_closed_months(NOW)
            assert _row_count(ids, OCTOBER) == 0
        lower, upper = OCTOBER.utc_bounds()
        return {
            (r.connection_point_id, int(r.hour_start.timestamp()), r.source): (
                r.injected_wh,
                r.withdrawn_wh,
                r.quality,
            )
            for point_id in ids
            for r in series.point_readings(point_id=point_id, start=lower, end=upper)
        }

    assert scenario(pack=True) == scenario(pack=False)
