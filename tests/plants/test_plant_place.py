"""The plant forms refuse bad substation codes and place the plant by its municipality."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cer.members.models import Membership
from cer.plants.models import Plant
from tests import factories
from tests.factories.communities import import_area

pytestmark = pytest.mark.django_db


@pytest.fixture
def point(community):
    holder = factories.make_member(first_name="Giulia", last_name="Bianchi")
    Membership.objects.create(
        member=holder, community=community, valid_from=dt.date(2024, 9, 12), kind="PROSUMER"
    )
    return factories.make_connection_point(community, holder, has_injection=True)


def form_data(point, **changes):
    return {
        "name": "FV palestra",
        "connection_point": point.pk,
        "owner": point.holder.pk,
        "source": "PV",
        "power_kw": "60",
        "entry_into_service_date": "2024-11-05",
        "regime": "DM414",
        "primary_substation": point.configuration.primary_substation,
        "municipality": "Spinea (VE)",
        "region": "",
        "superbonus_kw": "0",
        "obligation_kw": "0",
        "capital_grant_pct": "0",
        "storage_power_kw": "0",
        "storage_capacity_kwh": "0",
        "censimp_code": "",
        **changes,
    }


def register(client, community, data):
    return client.post(reverse("plants:register", args=[community.pk]), data)


def test_the_form_refuses_a_substation_code_of_the_wrong_format(
    client, referente, community, point
):
    client.force_login(referente)

    response = register(client, community, form_data(point, primary_substation="XYZ123"))

    # The registration page shows the form again, the field named.
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["primary_substation"]
    assert not Plant.objects.exists()


def test_the_form_refuses_a_code_outside_the_imported_list(client, referente, community, point):
    import_area(community)
    client.force_login(referente)

    response = register(client, community, form_data(point, primary_substation="AC001E99998"))

    # The registration page shows the form again, the field named.
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["primary_substation"]


def test_a_plant_in_venice_outside_the_imported_area_is_not_eligible(
    client, referente, community, point
):
    import_area(community)
    client.force_login(referente)

    register(client, community, form_data(point, municipality="Venezia"))

    plant = Plant.objects.get()
    area = next(r for r in plant.eligibility_results if r["rule"] == "AREA")
    assert area["outcome"] == "FAIL"
    assert plant.eligibility_status == "NOT_ELIGIBLE"


def test_the_region_follows_the_municipality_not_what_was_typed(
    client, referente, community, point
):
    client.force_login(referente)

    register(client, community, form_data(point, municipality="Bari", region="Veneto"))

    plant = Plant.objects.get()
    assert plant.region == "Puglia"
    pv = next(r for r in plant.eligibility_results if r["rule"] == "PV_REGION")
    assert pv["values"]["region"] == "Puglia"


def test_the_plant_page_shows_the_grant_the_storage_and_the_place(
    client, referente, community, point
):
    plant = factories.make_plant(
        point,
        capital_grant_pct="40",
        storage_power_kw="5",
        storage_capacity_kwh="10",
        municipality_id="027038",
        region="Veneto",
    )
    client.force_login(referente)

    page = client.get(reverse("plant_detail", args=[plant.pk]), HTTP_ACCEPT_LANGUAGE="it")

    section = page.content.decode().split('id="plant-data"')[1].split("</dl>")[0]
    assert "40,0" in section
    assert "5\xa0kW" in section
    assert "10,000 kWh" in section
    assert "Spinea (VE)" in section
