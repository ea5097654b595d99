"""compute_year: twelve monthly runs from one read of the year's readings.

The runs it stores must be those twelve compute_month calls store (same inputs hashes, same
figures to the Wh and the cent, same members' series), settling the year again with the
same inputs must add no version, and a month whose readings changed gets a new version.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import transaction

from cer.metering import series
from cer.metering.models import HourlyReading
from cer.settlement.inputs import read_year_readings
from cer.settlement.models import SettlementRun
from cer.settlement.services import compute_month, compute_year
from cercalc import periods
from tests.factories.settlement import add_prices, add_readings, make_small

NOW = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)
YEAR = 2025

pytestmark = pytest.mark.django_db


def _year_of_readings():
    """The small configuration over 2025, with what makes months differ from each other.

    The SME joins on 15 March (memberships per month), April misses ten hours of the
    household (gaps, a provisional run), and in May a device reports the producer's
    point beside the grid operator for the first days (the grid operator wins).
    """
    small = make_small(joined={"sme": dt.date(2025, 3, 15)})
    for month in periods.year(YEAR).months():
        skip = {"household": set(range(100, 110))} if month.start.month == 4 else None
        add_readings(small, month.start, skip=skip)
        add_prices(month.start)
    may = periods.month_of(dt.date(YEAR, 5, 1)).hour_starts_s()[:72].tolist()
    HourlyReading.objects.bulk_create(
        HourlyReading(
            connection_point=small.points["producer"],
            hour_start=dt.datetime.fromtimestamp(start, tz=dt.UTC),
            injected_wh=5,
            withdrawn_wh=7,
            source="DEV",
        )
        for start in may
    )
    return small


def _figures(run: SettlementRun) -> dict:
    """What a run stores, as plain values to compare."""
    return {
        "month": run.month,
        "version": run.version,
        "inputs_hash": run.inputs_hash,
        "readings_hash": run.readings_hash,
        "provisional": run.provisional,
        "gaps": run.gaps,
        "warnings": run.warnings,
        "point_totals": run.point_totals,
        "membership": run.membership_snapshot,
        "totals": [
            run.hours,
            run.injected_wh,
            run.withdrawn_wh,
            run.shared_wh,
            run.incentive_eur,
            run.valorisation_eur,
            run.excess_eur,
            run.gse_fees_eur,
        ],
        "hours": list(
            run.hour_rows.values_list(
                "hour_start", "injected_wh", "withdrawn_wh", "shared_wh", "price_eur_per_mwh"
            )
        ),
        "plants": [
            (row.plant_id, row.shared_wh, row.incentive_eur, bytes(row.series))
            for row in run.plant_rows.all()
        ],
        "members": [
            (
                row.member_id,
                row.category,
                row.active_hours,
                row.injected_wh,
                row.withdrawn_wh,
                row.producer_shared_wh,
                row.consumer_shared_wh,
                bytes(row.series),
            )
            for row in run.member_rows.all()
        ],
    }


def test_the_year_stores_the_runs_twelve_months_would_and_again_only_what_changed():
    # One test for three steps: a year of readings takes a while to settle on SQLite.
    small = _year_of_readings()
    months = [month.start for month in periods.year(YEAR).months()]
    with transaction.atomic():
        expected = [
            _figures(compute_month(configuration=small.configuration, month=month, now=NOW).run)
            for month in months
        ]
        transaction.set_rollback(True)
    assert not SettlementRun.objects.exists()

    outcomes = compute_year(configuration=small.configuration, year=YEAR, now=NOW)

    assert [outcome.created for outcome in outcomes] == [True] * 12
    assert [_figures(outcome.run) for outcome in outcomes] == expected
    # The months differ where the data differ: the check above compares something.
    assert expected[3]["provisional"] and not expected[4]["provisional"]
    assert len(expected[1]["membership"]) == 2 and len(expected[3]["membership"]) == 3

    # Settled again with the same inputs: the same runs, no new version.
    again = compute_year(configuration=small.configuration, year=YEAR, now=NOW)

    assert [outcome.created for outcome in again] == [False] * 12
    assert [o.run.pk for o in again] == [o.run.pk for o in outcomes]
    assert SettlementRun.objects.filter(configuration=small.configuration).count() == 12

    # A day of August read anew: a second version of August, and of no other month.
    household = small.points["household"]
    HourlyReading.objects.filter(
        connection_point=household,
        hour_start__gte=dt.datetime(YEAR, 8, 10, tzinfo=dt.UTC),
        hour_start__lt=dt.datetime(YEAR, 8, 11, tzinfo=dt.UTC),
    ).update(withdrawn_wh=900)

    later = compute_year(configuration=small.configuration, year=YEAR, now=NOW)

    assert [outcome.run.month for outcome in later if outcome.created] == [dt.date(YEAR, 8, 1)]
    august = later[7].run
    assert august.version == 2 and august.previous_id == outcomes[7].run.pk
    assert august.changes["points"][household.pod]["withdrawn_wh"] == [
        expected[7]["point_totals"][household.pod][1],
        expected[7]["point_totals"][household.pod][1] + 24 * 200,
    ]


def test_a_slice_of_the_year_is_what_the_month_reads():
    small = _year_of_readings()
    window = read_year_readings(configuration=small.configuration, year=YEAR)
    may = periods.month_of(dt.date(YEAR, 5, 1))
    start_s = int(may.hour_starts_s()[0])
    point_ids = [small.points[key].pk for key in ("sme", "producer")]

    part = window.part(point_ids=point_ids, first_hour_s=start_s, hour_count=may.hours)
    direct = series.winning_readings(
        point_ids=point_ids, first_hour_s=start_s, hour_count=may.hours
    )

    for name in ("injected_wh", "withdrawn_wh", "source_index"):
        assert np.array_equal(getattr(part, name), getattr(direct, name))
    # The grid operator's reading won over the device's in May's first hours.
    assert part.withdrawn_wh[1, 0] == 100
    assert part.source_index[1, 0] == series.SOURCE_CODES.index("DSO")
