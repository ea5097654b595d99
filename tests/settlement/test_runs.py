"""Settlement runs: loading, storing, versions, idempotency, DST months, gaps, jobs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from cer.distribution.services import set_policy
from cer.incentives.models import PriceSource, RegulatoryParameter, ZonalPrice
from cer.metering.models import HourlyReading
from cer.settlement.jobs import RunAlreadyInProgress, execute_job, request_run
from cer.settlement.models import (
    JobStatus,
    RunIsFinal,
    SettlementHour,
    SettlementJob,
    SettlementRun,
)
from cer.settlement.services import IncompleteData, compute_month, finalise_run
from cercalc import periods
from tests import factories
from tests.factories.settlement import add_prices, add_readings, make_small, settled_small

NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
JUNE = dt.date(2025, 6, 1)

pytestmark = pytest.mark.django_db


def test_a_month_is_settled_with_one_stored_row_per_hour():
    small = settled_small()

    outcome = compute_month(configuration=small.configuration, month=JUNE, now=NOW)

    run = outcome.run
    assert outcome.created
    assert run.hours == 720
    assert SettlementHour.objects.filter(run=run).count() == 720
    # 30 days x 10 daylight hours x min(3000, 2300) Wh shared.
    assert run.shared_wh == 30 * 10 * 2300
    assert run.member_rows.count() == 3
    assert not run.provisional


def test_the_stored_figures_are_the_engine_figures_for_the_same_hours():
    small = settled_small()

    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    # 690 kWh at min(120, 80 + 40) + 10 (Veneto PV) = 130 EUR/MWh = 89.70 EUR.
    assert run.incentive_eur == Decimal("89.70")
    plant_row = run.plant_rows.get()
    assert plant_row.shared_wh == 690_000


@pytest.mark.parametrize(
    ("month", "hours"), [(dt.date(2025, 3, 1), 743), (dt.date(2025, 10, 1), 745)]
)
def test_a_dst_month_settles_its_743_or_745_hours(month, hours):
    small = make_small()
    add_readings(small, month)
    add_prices(month)

    # The month must have ended before it can be settled.
    run = compute_month(configuration=small.configuration, month=month, now=LATER).run

    assert run.hours == hours
    assert SettlementHour.objects.filter(run=run).count() == hours
    assert run.member_rows.get(member=small.household).active_hours == hours


def test_rerunning_a_month_with_the_same_inputs_gives_back_the_same_run():
    small = settled_small()
    first = compute_month(configuration=small.configuration, month=JUNE, now=NOW)

    again = compute_month(configuration=small.configuration, month=JUNE, now=NOW)

    assert not again.created
    assert again.run.pk == first.run.pk
    assert SettlementRun.objects.count() == 1


def test_corrected_readings_create_a_new_version_that_says_what_changed():
    small = settled_small()
    first = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    point = small.points["sme"]
    hour = dt.datetime(2025, 6, 10, 9, tzinfo=dt.UTC)
    HourlyReading.objects.filter(connection_point=point, hour_start=hour).update(withdrawn_wh=0)

    second = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    assert second.version == 2
    assert second.previous_id == first.pk
    assert second.changes["points"][point.pod]["withdrawn_wh"] == [
        first.point_totals[point.pod][1],
        first.point_totals[point.pod][1] - 1500,
    ]
    assert second.changes["hours_with_other_shared_energy"] == 1
    assert second.shared_wh == first.shared_wh - 1500


def test_a_final_run_cannot_be_changed_and_a_correction_is_a_new_version():
    small = settled_small()
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    final = finalise_run(run=run, actor=None, now=NOW)
    HourlyReading.objects.filter(connection_point=small.points["household"]).update(
        withdrawn_wh=800
    )

    final.incentive_eur = Decimal("1.00")
    with pytest.raises(RunIsFinal):
        final.save()
    with pytest.raises(RunIsFinal):
        final.delete()
    newer = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    assert newer.version == 2
    assert SettlementRun.objects.get(pk=run.pk).incentive_eur == Decimal("89.70")


def test_missing_readings_are_listed_per_point_and_hour_and_the_run_is_provisional():
    small = make_small()
    add_readings(small, JUNE, skip={"household": {0, 1, 2, 100}})
    add_prices(JUNE)

    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    assert run.provisional
    assert run.gaps == [
        {
            "pod": small.points["household"].pod,
            "count": 4,
            "ranges": [
                ["2025-05-31T22:00:00Z", "2025-06-01T01:00:00Z"],
                ["2025-06-05T02:00:00Z", "2025-06-05T03:00:00Z"],
            ],
        }
    ]


def test_missing_readings_are_refused_when_the_community_chose_so():
    small = make_small()
    add_readings(small, JUNE, skip={"sme": {5}})
    add_prices(JUNE)
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[],
        components=[{"basis": "EQUAL", "percent": Decimal(100)}],
        missing_data="REFUSE",
        actor=None,
        now=NOW,
    )

    with pytest.raises(IncompleteData) as refused:
        compute_month(configuration=small.configuration, month=JUNE, now=NOW)

    assert refused.value.gaps[0]["pod"] == small.points["sme"].pod
    assert SettlementRun.objects.count() == 0


def test_hours_without_a_price_are_left_out_and_listed_never_priced_by_guess():
    small = make_small()
    add_readings(small, JUNE)
    add_prices(JUNE)
    noon = dt.datetime(2025, 6, 2, 10, tzinfo=dt.UTC)
    ZonalPrice.objects.filter(interval_start=noon).delete()

    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    assert run.provisional
    assert run.unpriced_hours == ["2025-06-02T10:00:00Z"]
    assert run.shared_wh == (30 * 10 - 1) * 2300


def test_a_member_who_joined_mid_month_shares_only_in_the_hours_after_joining():
    small = make_small(joined={"sme": dt.date(2025, 6, 16)})
    add_readings(small, JUNE)
    add_prices(JUNE)

    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    sme = run.member_rows.get(member=small.sme)
    series = sme.hourly()
    first_hour = 15 * 24  # the month and 16 June both start at 22:00 UTC the day before
    assert sme.active_hours == 720 - first_hour
    assert series[1, :first_hour].sum() == 0
    assert series[2, :first_hour].sum() == 0
    assert series[2, first_hour:].sum() > 0


def test_a_grid_operator_reading_wins_over_a_device_reading_for_the_same_hour():
    small = settled_small()
    hour = dt.datetime(2025, 6, 3, 9, tzinfo=dt.UTC)
    HourlyReading.objects.create(
        connection_point=small.points["household"],
        hour_start=hour,
        injected_wh=0,
        withdrawn_wh=99_999,
        source="DEV",
    )

    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    assert run.withdrawn_wh == 720 * (700 + 1500 + 100)


def test_a_device_reading_fills_an_hour_the_grid_operator_has_not_sent():
    small = make_small()
    add_readings(small, JUNE, skip={"household": {50}})
    add_prices(JUNE)
    hour = dt.datetime.fromtimestamp(int(periods.month_of(JUNE).hour_starts_s()[50]), tz=dt.UTC)
    HourlyReading.objects.create(
        connection_point=small.points["household"], hour_start=hour, withdrawn_wh=1, source="DEV"
    )

    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    assert not run.provisional
    assert run.withdrawn_wh == 720 * 2300 - 700 + 1


def test_an_estimate_that_fills_an_hour_makes_the_month_provisional():
    small = make_small()
    add_readings(small, JUNE, skip={"household": {50}})
    add_prices(JUNE)
    hour = dt.datetime.fromtimestamp(int(periods.month_of(JUNE).hour_starts_s()[50]), tz=dt.UTC)
    HourlyReading.objects.create(
        connection_point=small.points["household"], hour_start=hour, withdrawn_wh=1, source="EST"
    )

    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    assert run.provisional
    assert not run.gaps
    assert run.withdrawn_wh == 720 * 2300 - 700 + 1


def test_quarter_hour_prices_give_the_hourly_mean():
    small = make_small()
    month = dt.date(2025, 11, 1)
    add_readings(small, month)
    for start in periods.month_of(month).hour_starts_s().tolist():
        for quarter, price in enumerate(("100.00", "110.00", "120.00", "131.00")):
            ZonalPrice.objects.create(
                market_zone="NORD",
                interval_start=dt.datetime.fromtimestamp(start + 900 * quarter, tz=dt.UTC),
                interval_minutes=15,
                price_eur_per_mwh=Decimal(price),
                source=PriceSource.CSV,
            )

    run = compute_month(configuration=small.configuration, month=month, now=LATER).run

    assert run.hour_rows.first().price_eur_per_mwh == Decimal("115.2500")
    assert not run.unpriced_hours


def test_a_regulatory_parameter_row_overrides_the_engine_value_for_its_dates():
    small = settled_small()
    RegulatoryParameter.objects.create(
        code="valorisation_eur_per_mwh",
        value=Decimal("8.000000"),
        valid_from=dt.date(2025, 1, 1),
    )

    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    assert run.valorisation_eur == Decimal("5.52")  # 690 kWh x 8 EUR/MWh
    assert run.parameter_versions["overrides"][0]["code"] == "valorisation_eur_per_mwh"


def test_two_settlements_of_the_same_month_cannot_be_active_at_once():
    small = settled_small()
    request_run(configuration=small.configuration, month=JUNE, actor=None, now=NOW)

    with pytest.raises(RunAlreadyInProgress):
        request_run(configuration=small.configuration, month=JUNE, actor=None, now=NOW)

    assert SettlementJob.objects.count() == 1


def test_a_queued_job_runs_to_a_stored_run_and_frees_the_month():
    small = settled_small()
    job = request_run(configuration=small.configuration, month=JUNE, actor=None, now=NOW)

    done = execute_job(job_id=job.pk, now=NOW)

    assert done.status == JobStatus.DONE
    assert done.run is not None
    request_run(configuration=small.configuration, month=JUNE, actor=None, now=NOW)


def test_the_monthly_command_settles_a_configuration_and_says_so():
    small = settled_small()
    out = StringIO()

    call_command(
        "compute_settlement",
        "--month",
        "2025-06",
        "--configuration",
        str(small.configuration.pk),
        stdout=out,
    )
    call_command(
        "compute_settlement",
        "--month",
        "2025-06",
        "--configuration",
        str(small.configuration.pk),
        stdout=out,
    )

    assert "2025-06 v1 (new version)" in out.getvalue()
    assert "2025-06 v1 (unchanged)" in out.getvalue()


def test_the_worker_runs_what_is_queued_and_stops_when_asked_once():
    small = settled_small()
    request_run(configuration=small.configuration, month=JUNE, actor=None, now=NOW)
    out = StringIO()

    call_command("run_settlement_jobs", "--once", stdout=out)

    assert "DONE" in out.getvalue()
    assert SettlementRun.objects.count() == 1


def test_a_member_with_two_points_has_one_row_with_their_sums():
    small = make_small()
    small.points["garage"] = factories.make_connection_point(small.community, small.household)
    withdrawn = {"household": 700, "sme": 1500, "producer": 100, "garage": 50}
    add_readings(small, JUNE, withdrawn_wh=withdrawn)
    add_prices(JUNE)

    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    hours = periods.month_of(JUNE).hours
    row = run.member_rows.get(member=small.household)
    assert run.member_rows.count() == 3
    assert row.active_hours == hours  # the two points' hours of membership, counted once
    assert row.withdrawn_wh == (700 + 50) * hours
    series = row.hourly()  # injected, withdrawn, consumer's part, producer's part
    assert series[1].tolist() == [750] * hours
    assert int(series[2].sum()) == row.consumer_shared_wh > 0
