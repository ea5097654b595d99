"""The demo community lands in the database complete, valid and only once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse

from cer.communities.models import Community
from cer.demo.loader import load_demo
from cer.incentives.models import ZonalPrice
from cer.members.models import Member, Membership
from cer.metering.models import HourlyReading
from cer.plants.models import ConnectionPoint, Plant
from cercalc import periods

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The demo, loaded once for the module: its tests only read it. Each test runs in a
    savepoint inside this transaction, so what a test writes (a login) is undone after
    it, and the demo itself is rolled back when the module ends."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo()
        transaction.set_rollback(True)


def test_the_demo_is_loaded_once_and_a_second_load_adds_nothing(loaded):
    counts = (Member.objects.count(), HourlyReading.objects.count(), ZonalPrice.objects.count())

    again = load_demo()

    assert loaded.created and not again.created
    assert again.community == loaded.community
    assert (
        Member.objects.count(),
        HourlyReading.objects.count(),
        ZonalPrice.objects.count(),
    ) == counts
    assert Community.objects.count() == 1


def test_the_demo_has_about_forty_members_four_plants_and_a_year_per_point(loaded):
    points = ConnectionPoint.objects.count()

    assert 35 <= Membership.objects.filter(community=loaded.community).count() <= 45
    assert Plant.objects.count() == 4
    assert Plant.objects.filter(entry_into_service_date__lt=dt.date(2021, 1, 1)).count() == 1
    assert HourlyReading.objects.count() == points * 8760
    assert ZonalPrice.objects.filter(source="SYNTHETIC").count() == 8760


def test_every_demo_object_passes_model_validation(loaded):
    for model in (Community, Member, Membership, ConnectionPoint, Plant):
        for instance in model.objects.all():
            instance.full_clean()


def test_local_dst_days_have_23_and_25_hourly_readings_per_point(loaded):
    point = ConnectionPoint.objects.first()

    def hours_on(day: dt.date) -> int:
        start, end = periods.day(day).utc_bounds()
        return HourlyReading.objects.filter(connection_point=point).between(start, end).count()

    assert hours_on(dt.date(2025, 3, 30)) == 23
    assert hours_on(dt.date(2025, 10, 26)) == 25
    assert hours_on(dt.date(2025, 6, 1)) == 24


def test_demo_energy_is_plausible_and_never_negative(loaded):
    totals = HourlyReading.objects.aggregate(inj=Sum("injected_wh"), wdr=Sum("withdrawn_wh"))

    assert not HourlyReading.objects.filter(injected_wh__lt=0).exists()
    assert not HourlyReading.objects.filter(withdrawn_wh__lt=0).exists()
    # About 275 kWp of PV in Veneto and 40 consumers: hundreds of MWh each way.
    assert 150_000_000 < totals["inj"] < 300_000_000
    assert 200_000_000 < totals["wdr"] < 400_000_000


def test_demo_logins_see_the_community_page_with_its_chart(client, loaded):
    assert User.objects.get(username="admin").is_superuser
    assert client.login(username="referente", password="cercollettiva")

    response = client.get(reverse("community_detail", args=[loaded.community.pk]))

    assert response.status_code == 200
    assert response.context["manager"]
    assert response.context["chart"]["year"] == 2025
    assert len(response.context["memberships"]) >= 35
    assert (
        "Zonal prices are synthetic" in response.content.decode()
        or "sintetici" in response.content.decode()
    )


def test_the_demo_member_login_is_a_plain_member(client, loaded):
    assert client.login(username="socio", password="cercollettiva")

    response = client.get(reverse("community_detail", args=[loaded.community.pk]))

    assert not response.context["manager"]
    assert len(response.context["memberships"]) == 1


def test_demo_plants_stand_in_the_area_of_the_imported_substation_list(loaded):
    for plant in Plant.objects.all():
        results = {result["rule"]: result for result in plant.eligibility_results}
        assert plant.municipality_id is not None
        assert plant.region == "Veneto"
        assert results["AREA"]["outcome"] == "PASS", plant.name
