"""Rule 4: a PV plant far below its clear-sky expectation while its peers were not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.alerts.models import Alert, AlertRule
from cer.alerts.rules_production import clear_sky_kwh_per_kwp
from cer.alerts.services import evaluate
from cercalc import periods
from tests.alerts.conftest import YESTERDAY, add_day, make_point

pytestmark = pytest.mark.django_db


def _live():
    return Alert.objects.filter(rule=AlertRule.LOW_PRODUCTION, state__in=["OPEN", "ACK"])


def _plants(community, count=4):
    points = [make_point(community, injection=True) for _ in range(count)]
    return points


def _yield_kwh_per_kwp() -> float:
    start, _end = periods.day(YESTERDAY).utc_bounds()
    # Venice, the Veneto capital: where a plant of the test community stands by default.
    return clear_sky_kwh_per_kwp(
        latitude=45.44, longitude=12.33, tilt=30, azimuth=180, day_start=start, hours=25
    )


def test_clear_sky_gives_a_plausible_october_day_in_venice():
    value = _yield_kwh_per_kwp()

    assert 3.0 < value < 6.5


def test_a_plant_at_a_fifth_of_its_peers_rings_and_closes_when_it_recovers(community, now):
    points = _plants(community)
    expected_wh = _yield_kwh_per_kwp() * 10 * 0.8 * 1000  # 10 kW, performance ratio 0.8
    for point in points[1:]:
        add_day(point, YESTERDAY, injected_wh=int(expected_wh * 0.7))
    add_day(points[0], YESTERDAY, injected_wh=int(expected_wh * 0.14))

    evaluate(now)

    alert = _live().get()
    plant = points[0].plants.get()
    assert alert.object_id == plant.pk
    assert Decimal(alert.figures["median"]) == pytest.approx(Decimal("0.7"), abs=Decimal("0.01"))
    assert Decimal(alert.figures["ratio"]) == pytest.approx(Decimal("0.14"), abs=Decimal("0.01"))

    next_day = YESTERDAY + dt.timedelta(days=1)
    for point in points:
        add_day(point, next_day, injected_wh=int(expected_wh * 0.7))
    evaluate(now + dt.timedelta(days=1))
    assert not _live().exists()


def test_a_dark_day_rings_no_plant(community, now):
    points = _plants(community)
    expected_wh = _yield_kwh_per_kwp() * 10 * 0.8 * 1000
    for point in points[1:]:
        add_day(point, YESTERDAY, injected_wh=int(expected_wh * 0.1))
    add_day(points[0], YESTERDAY, injected_wh=int(expected_wh * 0.01))

    evaluate(now)

    assert not _live().exists()


def test_a_plant_with_its_own_site_and_orientation_is_judged_by_it(community, now):
    points = _plants(community, 4)
    north = points[0].plants.get()
    north.tilt_deg, north.azimuth_deg = Decimal(60), Decimal(0)
    north.latitude, north.longitude = Decimal("46.50"), Decimal("11.35")
    north.save()
    start, _end = periods.day(YESTERDAY).utc_bounds()
    north_yield = clear_sky_kwh_per_kwp(
        latitude=46.5, longitude=11.35, tilt=60, azimuth=0, day_start=start, hours=25
    )
    south_yield = _yield_kwh_per_kwp()
    for point in points[1:]:
        add_day(point, YESTERDAY, injected_wh=int(south_yield * 10 * 0.8 * 1000 * 0.7))
    add_day(points[0], YESTERDAY, injected_wh=int(north_yield * 10 * 0.8 * 1000 * 0.7))

    evaluate(now)

    # Judged as a south-facing plant in Venice it would be under half its peers' ratio.
    assert north_yield / south_yield < 0.5
    assert not _live().exists()
