"""The engine's regulatory corrections as the platform feeds and shows them (June 2025).

The small configuration (tests/factories/settlement.py): the producer's 45 kW plant injects
3 kWh in each daylight hour (07-17 UTC, 10 hours a day) and the three points withdraw
0.7 + 1.5 + 0.1 = 2.3 kWh every hour, so each daylight hour shares 2.3 kWh.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from cer.plants.models import Plant
from cer.settlement.services import compute_month
from tests import factories
from tests.factories.settlement import settled_small

NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
JUNE = dt.date(2025, 6, 1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def settle_june(small, **plant_fields):
    Plant.objects.filter(pk=small.plant.pk).update(**plant_fields)
    return compute_month(configuration=small.configuration, month=JUNE, now=NOW).run


def test_a_dm_2020_plant_in_service_since_2021_keeps_its_flat_tariff():
    small = settled_small()

    run = settle_june(small, regime="DM2020", entry_into_service_date=dt.date(2021, 3, 15))

    # 30 days x 10 hours x 2.3 kWh = 690 kWh at the CER flat rate of 110 EUR/MWh = 75.90 EUR.
    assert run.shared_wh == 690_000
    assert run.incentive_eur == Decimal("75.90")
    assert not [w for w in run.warnings if "existing plant" in w]
    assert Plant.objects.get(pk=small.plant.pk).is_existing is False


def test_injection_before_entry_into_service_is_excluded_and_the_run_page_says_so(client):
    small = settled_small()
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="r")
    )

    run = settle_june(small, entry_into_service_date=dt.date(2025, 6, 16))
    response = client.get(reverse("settlement:run_detail", kwargs={"pk": run.pk}))

    # Only 16-30 June share: 15 days x 10 hours x 2.3 kWh = 345 kWh. The 15 days before
    # injected 15 x 10 x 3 kWh = 450 kWh.
    assert run.shared_wh == 345_000
    text = response.content.decode()
    assert f"«{small.plant.name}» fed 450.000\u00a0kWh into the grid before its entry" in text
    assert "on 16 June 2025" in text


def test_declared_storage_reaches_the_engine_and_the_run_page_shows_the_reading(client):
    small = settled_small()
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="r")
    )

    run = settle_june(small, storage_power_kw=Decimal("10"), storage_capacity_kwh=Decimal("20.5"))
    response = client.get(reverse("settlement:run_detail", kwargs={"pk": run.pk}))

    text = response.content.decode()
    assert f"«{small.plant.name}» has a storage battery (10\u00a0kW, 20.500\u00a0kWh)" in text
    assert "REGULATION.md" not in text


def test_each_points_voltage_level_reaches_the_losses_term():
    small = settled_small()
    small.community.kind = "AUC"
    small.community.save(update_fields=["kind"])
    small.points["sme"].voltage_level = "MV"
    small.points["sme"].save(update_fields=["voltage_level"])

    run = settle_june(small)

    # 690 kWh shared at Pz 140 EUR/MWh; (TRAS_E + BTAU) has no 2025 value: the 2024 one,
    # 10.57 + 0.65 = 11.22 EUR/MWh, gives 7.7418 EUR. Losses, split by withdrawals
    # (0.7 + 0.1 kWh LV, 1.5 kWh MV of 2.3): 690 x 140 / 1000 x (0.026 x 0.8 + 0.012 x 1.5)
    # / 2.3 = 96.6 x 0.0388 / 2.3 = 1.6296 EUR. Together 9.3714 -> 9.37 EUR.
    assert run.valorisation_eur == Decimal("9.37")
    assert [w for w in run.warnings if "0.026 for LV points, 0.012 for MV points" in w]
