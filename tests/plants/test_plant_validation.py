"""Plants and connection points refuse impossible values, field by field, in Italian."""

from __future__ import annotations

import datetime as dt

import pytest
from django.forms import modelform_factory
from django.utils import timezone, translation

from cer.plants.models import ConnectionPoint, Plant
from tests import factories

PlantForm = modelform_factory(Plant, fields="__all__")
PointForm = modelform_factory(ConnectionPoint, fields="__all__")


@pytest.fixture
def point(community):
    return factories.make_connection_point(community, factories.make_member(), has_injection=True)


def plant_errors(point, **changes):
    data = {
        "connection_point": point.pk,
        "owner": point.holder.pk,
        "name": "FV scuola",
        "source": "PV",
        "power_kw": "60",
        "entry_into_service_date": "2024-11-05",
        "regime": "DM414",
        "storage_power_kw": "0",
        "storage_capacity_kwh": "0",
        "superbonus_kw": "0",
        "obligation_kw": "0",
        "capital_grant_pct": "0",
        **changes,
    }
    with translation.override("it"):
        form = PlantForm(data=data)
        valid = form.is_valid()
        return valid, {field: " ".join(messages) for field, messages in form.errors.items()}


@pytest.mark.django_db
def test_a_valid_plant_passes(point):
    assert plant_errors(point) == (True, {})


@pytest.mark.django_db
def test_negative_power_is_refused_on_the_power_field(point):
    valid, errors = plant_errors(point, power_kw="-5")

    assert not valid
    assert "negativo" in errors["power_kw"]
    assert Plant.objects.count() == 0


@pytest.mark.django_db
def test_entry_into_service_in_the_future_is_refused(point):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    valid, errors = plant_errors(point, entry_into_service_date=tomorrow.isoformat())

    assert not valid
    assert "futuro" in errors["entry_into_service_date"]


@pytest.mark.django_db
def test_superbonus_share_above_the_power_is_refused(point):
    valid, errors = plant_errors(point, superbonus_kw="50", obligation_kw="20")

    assert not valid
    assert "Superbonus" in errors["superbonus_kw"]


@pytest.mark.django_db
def test_a_plant_before_mid_december_2021_is_existing(point):
    old = factories.make_plant(point, entry_into_service_date=dt.date(2021, 12, 15))
    new = factories.make_plant(point, entry_into_service_date=dt.date(2021, 12, 16))

    assert old.is_existing
    assert not new.is_existing


@pytest.mark.django_db
def test_a_dm2020_plant_before_mid_december_2021_is_not_existing(point):
    old = factories.make_plant(point, entry_into_service_date=dt.date(2021, 3, 15), regime="DM2020")

    assert not old.is_existing


@pytest.mark.django_db
def test_a_malformed_pod_is_refused_on_the_pod_field(community):
    holder = factories.make_member()
    data = {
        "pod": "IT001X1234567",
        "configuration": community.configurations.first().pk,
        "holder": holder.pk,
        "voltage_level": "LV",
        "contracted_power_kw": "4.5",
        "has_withdrawal": "on",
    }
    with translation.override("it"):
        form = PointForm(data=data)

        assert not form.is_valid()
        assert list(form.errors) == ["pod"]
        assert "codice POD" in form.errors["pod"][0]
    assert ConnectionPoint.objects.count() == 0


@pytest.mark.django_db
def test_contracted_power_cannot_be_negative(community):
    holder = factories.make_member()
    with translation.override("it"):
        form = PointForm(
            data={
                "pod": "IT001E00000042",
                "configuration": community.configurations.first().pk,
                "holder": holder.pk,
                "voltage_level": "LV",
                "contracted_power_kw": "-3",
                "has_withdrawal": "on",
            }
        )

        assert not form.is_valid()
        assert "negativo" in form.errors["contracted_power_kw"][0]
