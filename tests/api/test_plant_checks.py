"""Plants written through the API are checked on save, placed by their municipality."""

from __future__ import annotations

import pytest

from cer.plants.models import EligibilityStatus, Plant
from tests.api.conftest import client_for
from tests.factories.communities import import_area

pytestmark = pytest.mark.django_db


@pytest.fixture
def referente(personas, world):
    return client_for(personas["referente"])


def _plant_body(world, **overrides):
    point = world.objects["connection_point"]
    body = {
        "connection_point": point.pk,
        "owner": world.objects["member"].pk,
        "name": "FV capannone",
        "source": "PV",
        "power_kw": "45.000",
        "entry_into_service_date": "2024-06-01",
        "primary_substation": point.configuration.primary_substation,
        "municipality": "027038",
    }
    body.update(overrides)
    return body


def test_a_plant_created_through_the_api_takes_its_region_and_is_checked(
    referente, world, community
):
    import_area(community)

    response = referente.post("/api/v1/plants", _plant_body(world), format="json")

    assert response.status_code == 201, response.json()
    plant = Plant.objects.get(pk=response.json()["id"])
    assert plant.region == "Veneto"
    assert plant.eligibility_status == EligibilityStatus.ELIGIBLE
    assert {r["rule"] for r in plant.eligibility_results} >= {"AREA", "PV_REGION"}


def test_the_api_refuses_a_substation_code_of_the_wrong_format_on_its_field(referente, world):
    response = referente.post(
        "/api/v1/plants", _plant_body(world, primary_substation="XYZ123"), format="json"
    )

    assert response.status_code == 400
    assert "primary_substation" in str(response.json())
    assert not Plant.objects.filter(name="FV capannone").exists()


def test_the_api_refuses_a_code_outside_the_imported_list(referente, world, community):
    import_area(community)

    response = referente.post(
        "/api/v1/plants", _plant_body(world, primary_substation="AC001E99998"), format="json"
    )

    assert response.status_code == 400
    assert "primary_substation" in str(response.json())
