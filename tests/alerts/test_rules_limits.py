"""Rules 6 to 10: the 55 %/45 % trend, 30 % existing, 1 MW, leaving producers, deadlines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from cer.alerts.explain import explain
from cer.alerts.models import Alert, AlertRule
from cer.alerts.services import evaluate
from cer.settlement.models import RunPlant
from tests import factories
from tests.factories.settlement import make_settlement_run

pytestmark = pytest.mark.django_db


def _live(rule):
    return Alert.objects.filter(rule=rule, state__in=["OPEN", "ACK"])


def _english(alert):
    with translation.override("en"):
        return explain(alert.rule, alert.figures)


def _point(community):
    member = factories.make_membership(community).member
    return factories.make_connection_point(community, member, has_injection=True)


@pytest.fixture
def filed(community):
    """The configuration's GSE request is filed: no request deadline gets in the way."""
    community.configurations.update(gse_request_date=dt.date(2025, 1, 10))
    return community


def _run_with_plant(plant, *, month, injected_wh, incentivised_wh, version=1):
    run = make_settlement_run(plant.connection_point.configuration, month=month, version=version)
    RunPlant.objects.create(
        run=run,
        plant=plant,
        owner=plant.owner,
        injected_wh=injected_wh,
        shared_wh=incentivised_wh,
        incentivised_wh=incentivised_wh,
        incentive_eur=Decimal("10.00"),
        gse_fee_eur_per_year=Decimal("0.00"),
        series=b"",
    )
    return run


def test_a_year_whose_incentivised_share_passes_55_percent_rings(filed, now):
    plant = factories.make_plant(_point(filed))
    _run_with_plant(
        plant, month=dt.date(2025, 8, 1), injected_wh=1_000_000, incentivised_wh=500_000
    )
    _run_with_plant(
        plant, month=dt.date(2025, 9, 1), injected_wh=1_000_000, incentivised_wh=700_000
    )

    evaluate(now)

    alert = _live(AlertRule.EXCESS_SHARE).get()
    spans = {(o["span"], o["ratio"]) for o in alert.figures["over"]}
    assert spans == {("year", "0.6000"), ("month", "0.7000")}
    assert "55.0%" in _english(alert)


def test_a_newer_version_of_the_month_below_the_threshold_closes_it(filed, now):
    plant = factories.make_plant(_point(filed))
    _run_with_plant(
        plant, month=dt.date(2025, 9, 1), injected_wh=1_000_000, incentivised_wh=700_000
    )
    evaluate(now)
    assert _live(AlertRule.EXCESS_SHARE).exists()

    _run_with_plant(
        plant, month=dt.date(2025, 9, 1), injected_wh=1_000_000, incentivised_wh=500_000, version=2
    )
    evaluate(now + dt.timedelta(hours=1))

    assert not _live(AlertRule.EXCESS_SHARE).exists()


def test_a_granted_plant_is_held_to_45_percent(filed, now):
    plant = factories.make_plant(_point(filed), capital_grant_pct=Decimal("40"))
    _run_with_plant(
        plant, month=dt.date(2025, 9, 1), injected_wh=1_000_000, incentivised_wh=500_000
    )

    evaluate(now)

    over = _live(AlertRule.EXCESS_SHARE).get().figures["over"]
    assert {o["threshold"] for o in over} == {"0.45"}


def test_existing_plants_from_25_percent_of_the_power_ring_and_close_below(filed, now):
    factories.make_plant(
        _point(filed), power_kw=Decimal("26"), entry_into_service_date=dt.date(2020, 5, 1)
    )
    new = factories.make_plant(_point(filed), power_kw=Decimal("74"))

    evaluate(now)
    alert = _live(AlertRule.EXISTING_SHARE).get()
    assert alert.figures["share"] == "0.2600"
    assert "30.0%" in _english(alert)

    new.power_kw = Decimal("120")
    new.save()
    evaluate(now + dt.timedelta(hours=1))
    assert not _live(AlertRule.EXISTING_SHARE).exists()


def test_a_plant_whose_extension_reaches_900_kw_rings_and_closes_when_dropped(filed, now):
    plant = factories.make_plant(
        _point(filed), power_kw=Decimal("700"), planned_extension_kw=Decimal("200")
    )

    evaluate(now)
    alert = _live(AlertRule.POWER_LIMIT).get()
    assert alert.figures["after_kw"] == "900.000"
    assert "1,000\u00a0kW" in _english(alert)

    plant.planned_extension_kw = Decimal("150")
    plant.save()
    evaluate(now + dt.timedelta(hours=1))
    assert not _live(AlertRule.POWER_LIMIT).exists()


def test_a_member_leaving_with_a_plant_rings_until_the_end_date_is_withdrawn(filed, now):
    point = _point(filed)
    factories.make_plant(point)
    membership = point.holder.memberships.get()
    membership.valid_to = dt.date(2025, 12, 31)
    membership.save()

    evaluate(now)
    alert = _live(AlertRule.MEMBER_LEAVING).get()
    assert alert.object_id == point.holder.pk
    assert "31 December 2025" in _english(alert)

    membership.valid_to = None
    membership.save()
    evaluate(now + dt.timedelta(hours=1))
    assert not _live(AlertRule.MEMBER_LEAVING).exists()


def test_the_gse_request_is_due_120_days_after_entry_into_service(community, now):
    # In service on 10 July 2025: the request is due by 7 November, within the 30 days.
    plant = factories.make_plant(_point(community), entry_into_service_date=dt.date(2025, 7, 10))

    evaluate(now)
    alert = _live(AlertRule.DEADLINE).get()
    assert (alert.object_kind, alert.object_id) == ("plant-gse-request", plant.pk)
    assert "7 November 2025" in _english(alert)

    community.configurations.update(gse_request_date=dt.date(2025, 10, 20))
    evaluate(now + dt.timedelta(hours=1))
    assert not _live(AlertRule.DEADLINE).exists()


def test_a_request_still_far_off_rings_nothing(community, now):
    factories.make_plant(_point(community), entry_into_service_date=dt.date(2025, 10, 1))

    evaluate(now)

    assert not _live(AlertRule.DEADLINE).exists()


def test_a_granted_plant_with_an_extension_is_told_the_pnrr_deadlines(filed):
    late_2027 = dt.datetime(2027, 12, 10, 9, 0, tzinfo=dt.UTC)
    plant = factories.make_plant(
        _point(filed), capital_grant_pct=Decimal("40"), planned_extension_kw=Decimal("5")
    )

    evaluate(late_2027)

    kinds = set(_live(AlertRule.DEADLINE).values_list("object_kind", flat=True))
    assert kinds == {"plant-pnrr-works", "plant-pnrr-service"}
    service = _live(AlertRule.DEADLINE).get(object_kind="plant-pnrr-service")
    assert "31 December 2027" in _english(service)

    plant.planned_extension_kw = None
    plant.save()
    evaluate(late_2027 + dt.timedelta(hours=1))
    assert not _live(AlertRule.DEADLINE).exists()
