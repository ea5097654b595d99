"""The community's reading-source precedence, applied alike by dashboards and settlement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.communities.models import Community
from cer.metering import precedence
from cer.metering import series as readings
from cer.metering.models import ReadingsVersion
from cer.settlement.inputs import load_inputs
from cercalc import periods
from tests import factories
from tests.factories.settlement import add_prices, add_readings, make_small

JUNE = dt.date(2025, 6, 1)


def test_parse_order_accepts_a_permutation_in_any_case():
    assert precedence.parse_order("dev, dso,MAN,EST") == ("DEV", "DSO", "MAN", "EST")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("DSO,DEV,MAN", "not_a_permutation"),
        ("DSO,DSO,MAN,EST", "not_a_permutation"),
        ("DSO,DEV,MAN,EST,DEV", "not_a_permutation"),
        ("DSO,DEV,MAN,GSE", "unknown_source"),
    ],
)
def test_parse_order_names_the_problem(text, code):
    with pytest.raises(ValidationError) as error:
        precedence.parse_order(text)
    assert error.value.code == code


@pytest.mark.django_db
def test_model_refuses_an_order_that_is_not_a_permutation():
    small = make_small()
    small.community.reading_source_order = "DSO,DEV"
    with pytest.raises(ValidationError) as error:
        small.community.full_clean()
    assert "reading_source_order" in error.value.message_dict


def _two_sources(small):
    """The household point has grid-operator and device readings for every hour of June."""
    add_readings(
        small, JUNE, source="DSO", withdrawn_wh={"household": 700, "sme": 1500, "producer": 100}
    )
    household_only = {key: set(range(800)) for key in ("sme", "producer")}
    add_readings(
        small,
        JUNE,
        source="DEV",
        skip=household_only,
        withdrawn_wh={"household": 650, "sme": 0, "producer": 0},
    )


def _choose(community: Community, order: str) -> None:
    community.reading_source_order = order
    community.save(update_fields=["reading_source_order"])


@pytest.mark.django_db
def test_dashboards_follow_the_communitys_order():
    small = make_small()
    _two_sources(small)
    point = small.points["household"]
    period = periods.month(2025, 6)

    series = readings.point_series(point_ids=[point.pk], period=period)[point.pk]
    assert set(series.withdrawn_wh.tolist()) == {700}
    assert set(series.source_index.tolist()) == {readings.SOURCE_CODES.index("DSO")}

    _choose(small.community, "DEV,DSO,MAN,EST")
    series = readings.point_series(point_ids=[point.pk], period=period)[point.pk]
    assert set(series.withdrawn_wh.tolist()) == {650}
    assert set(series.source_index.tolist()) == {readings.SOURCE_CODES.index("DEV")}

    point_ids = [p.pk for p in small.points.values()]
    _, withdrawn, mixed = readings.configuration_hourly_wh(point_ids=point_ids, period=period)
    assert mixed
    assert set(withdrawn.tolist()) == {650 + 1500 + 100}


@pytest.mark.django_db
def test_settlement_inputs_follow_the_order_and_the_hash_records_it():
    small = make_small()
    _two_sources(small)
    add_prices(JUNE)
    hours = periods.month_of(JUNE).hour_starts_s()
    row = [p.pk for p in load_inputs(configuration=small.configuration, hours=hours).points].index(
        small.points["household"].pk
    )

    by_default = load_inputs(configuration=small.configuration, hours=hours)
    assert set(by_default.withdrawn_wh[row].tolist()) == {700}

    _choose(small.community, "DEV,DSO,MAN,EST")
    device_first = load_inputs(configuration=small.configuration, hours=hours)
    assert set(device_first.withdrawn_wh[row].tolist()) == {650}
    assert device_first.inputs_hash() != by_default.inputs_hash()

    _choose(small.community, "DSO,DEV,MAN,EST")
    assert load_inputs(configuration=small.configuration, hours=hours).inputs_hash() == (
        by_default.inputs_hash()
    )


@pytest.mark.django_db
def test_referente_changes_the_order_on_its_page(client, community, referente):
    url = reverse("metering:reading_sources", kwargs={"community_id": community.pk})
    client.force_login(referente)
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"]["position_1"].value() == "DSO"

    response = client.post(
        url,
        {"position_1": "DEV", "position_2": "DSO", "position_3": "MAN", "position_4": "EST"},
    )

    assert response.status_code == 302
    community.refresh_from_db()
    assert community.reading_source_order == "DEV,DSO,MAN,EST"
    entry = AuditEntry.objects.get(code="communities.reading_source_order.changed")
    assert entry.changes == {"reading_source_order": ["DSO,DEV,MAN,EST", "DEV,DSO,MAN,EST"]}
    assert ReadingsVersion.objects.get(community=community).version == 1


@pytest.mark.django_db
def test_a_source_chosen_twice_is_refused_and_nothing_changes(client, community, referente):
    url = reverse("metering:reading_sources", kwargs={"community_id": community.pk})
    client.force_login(referente)

    response = client.post(
        url,
        {"position_1": "DEV", "position_2": "DEV", "position_3": "MAN", "position_4": "EST"},
    )

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors().as_data()
    assert [error.code for error in errors] == ["not_a_permutation"]
    community.refresh_from_db()
    assert community.reading_source_order == precedence.DEFAULT_ORDER_TEXT


@pytest.mark.django_db
def test_a_member_cannot_change_the_order(client, community, member_user):
    url = reverse("metering:reading_sources", kwargs={"community_id": community.pk})
    client.force_login(member_user)

    response = client.post(
        url,
        {"position_1": "EST", "position_2": "DSO", "position_3": "MAN", "position_4": "DEV"},
    )

    assert response.status_code == 403
    community.refresh_from_db()
    assert community.reading_source_order == precedence.DEFAULT_ORDER_TEXT


@pytest.mark.django_db
def test_the_point_page_states_the_communitys_order(client):
    small = make_small()
    _two_sources(small)
    _choose(small.community, "DEV,DSO,MAN,EST")
    manager = factories.make_user_with_role(small.community, role="REFERENTE", username="ord")
    client.force_login(manager)
    with translation.override("en"):
        url = reverse("dashboards:point", args=[small.points["household"].pk])

    page = client.get(url, {"period": "2025-06"}).content.decode()

    assert "Device (MQTT or HTTP) › Grid operator › Manual entry › Estimate" in page
