"""Plants written through the API go through the plant services, as on the web pages; a
plant's incentive comes from the settlement results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.audit.models import AuditEntry
from cer.plants.models import EligibilityStatus, Plant
from cer.settlement.models import RunPlant, RunStatus
from tests.api.conftest import client_for
from tests.factories.settlement import make_settlement_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def referente(personas, world):
    return client_for(personas["referente"])


def _plant_body(world, **overrides):
    body = {
        "connection_point": world.objects["connection_point"].pk,
        "owner": world.objects["member"].pk,
        "name": "FV capannone",
        "source": "PV",
        "power_kw": "45.000",
        "entry_into_service_date": "2024-06-01",
    }
    body.update(overrides)
    return body


def test_a_plant_registered_through_the_api_has_its_eligibility_computed(referente, world):
    response = referente.post("/api/v1/plants", _plant_body(world), format="json")

    assert response.status_code == 201, response.json()
    plant = Plant.objects.get(pk=response.json()["id"])
    assert plant.eligibility_status != EligibilityStatus.UNCHECKED
    assert plant.eligibility_checked_at is not None
    assert plant.eligibility_results


def test_a_plant_registered_through_the_api_is_logged_with_the_web_code(referente, world):
    response = referente.post("/api/v1/plants", _plant_body(world), format="json")

    codes = set(
        AuditEntry.objects.filter(target_id=str(response.json()["id"])).values_list(
            "code", flat=True
        )
    )
    assert "plants.plant.registered" in codes
    assert "plants.plant.created" not in codes


def test_the_seed_plant_path_registers_through_the_same_service(referente, world):
    response = referente.post("/api/plants", _plant_body(world), format="json")

    assert response.status_code == 201, response.json()
    plant = Plant.objects.get(pk=response.json()["id"])
    assert plant.eligibility_status != EligibilityStatus.UNCHECKED


def test_changing_a_plant_through_the_api_runs_the_checks_again(referente, world):
    plant = world.objects["plant"]

    response = referente.patch(
        f"/api/v1/plants/{plant.pk}", {"power_kw": "1500.000"}, format="json"
    )

    assert response.status_code == 200, response.json()
    plant.refresh_from_db()
    assert plant.eligibility_status == EligibilityStatus.NOT_ELIGIBLE
    assert plant.eligibility_checked_at is not None


def _settled(run, plant, amount):
    return RunPlant.objects.create(
        run=run,
        plant=plant,
        owner=plant.owner,
        injected_wh=1_000_000,
        shared_wh=600_000,
        incentivised_wh=600_000,
        incentive_eur=Decimal(amount),
        gse_fee_eur_per_year=Decimal("0.00"),
        series=b"",
    )


def test_the_incentive_of_a_plant_sums_the_latest_run_of_each_month(referente, world):
    plant = world.objects["plant"]
    configuration = world.objects["configuration"]
    march_v1 = world.objects["settlement_run"]
    march_v2 = make_settlement_run(configuration, version=2, status=RunStatus.FINAL)
    april = make_settlement_run(configuration, month=dt.date(2025, 4, 1), status=RunStatus.FINAL)
    _settled(march_v1, plant, "50.00")
    _settled(march_v2, plant, "61.20")
    _settled(april, plant, "70.05")

    body = referente.get(f"/api/v1/plants/{plant.pk}/incentive").json()

    assert body["status"] == "FINAL"
    assert body["amount_eur"] == "131.25"
    assert body["months"] == ["2025-03", "2025-04"]


def test_the_incentive_is_draft_while_a_latest_run_is_not_final(referente, world):
    plant = world.objects["plant"]
    _settled(world.objects["settlement_run"], plant, "12.34")

    body = referente.get(f"/api/incentives/{plant.pk}").json()

    assert body["status"] == "DRAFT"
    assert body["amount_eur"] == "12.34"
