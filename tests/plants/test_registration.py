"""The back office registers plants; the checks run on save and on demand; verification."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import translation

from cer.access.rules import BACK_OFFICE_GROUP
from cer.audit.models import AuditEntry
from cer.core.models import Municipality
from cer.members.models import Membership
from cer.plants import services
from cer.plants.models import EligibilityStatus, Plant
from tests import factories
from tests.factories.communities import import_area
from tests.factories.identifiers import SPINEA

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 3, 30, 1, 30, tzinfo=dt.UTC)


@pytest.fixture
def back_office(db):
    user = User.objects.create_user("backoffice", password="prova-password-2025")
    user.groups.add(Group.objects.get(name=BACK_OFFICE_GROUP))
    return user


@pytest.fixture
def point(community):
    holder = factories.make_member(first_name="Giulia", last_name="Bianchi")
    Membership.objects.create(
        member=holder, community=community, valid_from=dt.date(2024, 9, 12), kind="PROSUMER"
    )
    return factories.make_connection_point(community, holder, has_injection=True)


def form_data(point, **changes):
    configuration = point.configuration
    return {
        "name": "FV palestra",
        "connection_point": point.pk,
        "owner": point.holder.pk,
        "source": "PV",
        "power_kw": "60",
        "entry_into_service_date": "2024-11-05",
        "regime": "DM414",
        "primary_substation": configuration.primary_substation,
        "municipality": "Spinea (VE)",
        "region": "Veneto",
        "superbonus_kw": "0",
        "obligation_kw": "0",
        "capital_grant_pct": "0",
        "storage_power_kw": "0",
        "storage_capacity_kwh": "0",
        "censimp_code": "",
        **changes,
    }


def test_back_office_registers_an_eligible_plant(client, back_office, community, point):
    import_area(community)
    client.force_login(back_office)

    response = client.post(reverse("plants:register", args=[community.pk]), form_data(point))

    plant = Plant.objects.get(name="FV palestra")
    assert response.status_code == 302
    assert response["Location"] == reverse("plant_detail", args=[plant.pk])
    assert plant.eligibility_status == EligibilityStatus.ELIGIBLE
    assert len(plant.eligibility_results) == 8
    assert plant.region == "Veneto"
    assert AuditEntry.objects.filter(code="plants.plant.registered", actor=back_office).exists()


def test_plant_above_one_megawatt_is_kept_and_flagged_with_the_reason(
    client, back_office, community, point
):
    client.force_login(back_office)

    response = client.post(
        reverse("plants:register", args=[community.pk]),
        form_data(point, power_kw="1000.001"),
        follow=True,
    )

    plant = Plant.objects.get(name="FV palestra")
    page = response.content.decode()
    assert plant.eligibility_status == EligibilityStatus.NOT_ELIGIBLE
    assert "1.000,001 kW" in page  # Italian by default: decimal comma, thousands dot
    assert "GSE Regole Operative" in page


def test_form_names_every_field_with_a_problem_and_keeps_what_was_typed(
    client, back_office, community, point
):
    client.force_login(back_office)

    with translation.override("en"):
        response = client.post(
            reverse("plants:register", args=[community.pk]),
            form_data(point, name="FV scuola", power_kw="0", entry_into_service_date="2999-01-01"),
        )

    page = response.content.decode()
    assert response.status_code == 200
    assert Plant.objects.count() == 0
    errors = response.context["form"].errors
    assert set(errors) == {"power_kw", "entry_into_service_date"}
    assert 'href="#id_power_kw"' in page
    assert 'href="#id_entry_into_service_date"' in page
    assert 'value="FV scuola"' in page


def test_form_offers_only_the_communitys_points(client, back_office, community, point):
    other = factories.make_community(name="Altra CER")
    foreign = factories.make_connection_point(other, factories.make_member())
    client.force_login(back_office)

    response = client.post(
        reverse("plants:register", args=[community.pk]),
        form_data(point, connection_point=foreign.pk),
    )

    assert "connection_point" in response.context["form"].errors


def test_plain_member_cannot_register_a_plant(client, member_user, community):
    client.force_login(member_user)

    response = client.get(reverse("plants:register", args=[community.pk]))

    assert response.status_code == 403


def test_plant_in_service_between_the_two_dates_is_to_check(back_office, community, point):
    plant = factories.make_plant(
        point,
        entry_into_service_date=dt.date(2023, 5, 1),
        primary_substation=point.configuration.primary_substation,
    )

    services.check_community_plants(community=community, actor=back_office, now=NOW)

    plant.refresh_from_db()
    assert plant.eligibility_status == EligibilityStatus.TO_CHECK
    assert plant.eligibility_checked_at == NOW


def test_adding_existing_power_flags_the_existing_plants_above_thirty_percent(
    back_office, community, point
):
    substation = point.configuration.primary_substation
    import_area(community)
    spinea = Municipality.objects.get(pk=SPINEA)
    new = factories.make_plant(
        point,
        power_kw=Decimal("69.9"),
        primary_substation=substation,
        municipality=spinea,
        region="Veneto",
    )
    old = factories.make_plant(
        point,
        name="FV vecchio",
        power_kw=Decimal("30.1"),
        entry_into_service_date=dt.date(2020, 6, 1),
        primary_substation=substation,
        municipality=spinea,
        region="Veneto",
    )

    services.check_community_plants(community=community, actor=back_office, now=NOW)

    old.refresh_from_db()
    new.refresh_from_db()
    assert old.eligibility_status == EligibilityStatus.NOT_ELIGIBLE
    assert new.eligibility_status == EligibilityStatus.ELIGIBLE


def test_back_office_marks_a_plant_verified_with_an_audit_entry(
    client, back_office, community, point
):
    plant = factories.make_plant(point, entry_into_service_date=dt.date(2023, 5, 1))
    services.check_community_plants(community=community, actor=back_office, now=NOW)
    client.force_login(back_office)

    response = client.post(reverse("plants:verify", args=[plant.pk]))

    plant.refresh_from_db()
    assert response.status_code == 302
    assert plant.verified_by == back_office
    entry = AuditEntry.objects.get(code="plants.plant.verified")
    assert entry.target_id == str(plant.pk)
    assert entry.changes == {"eligibility_status": "TO_CHECK"}


def test_referente_cannot_verify_a_plant(client, referente, community, point):
    plant = factories.make_plant(point)
    client.force_login(referente)

    response = client.post(reverse("plants:verify", args=[plant.pk]))

    assert response.status_code == 403


def test_changed_results_clear_an_earlier_verification(back_office, community, point):
    plant = factories.make_plant(point, primary_substation="")
    services.check_community_plants(community=community, actor=back_office, now=NOW)
    plant.refresh_from_db()
    services.verify_plant(plant=plant, actor=back_office, now=NOW)
    Plant.objects.filter(pk=plant.pk).update(primary_substation="AC001E99999")

    services.check_community_plants(community=community, actor=back_office, now=NOW)

    plant.refresh_from_db()
    assert plant.eligibility_status == EligibilityStatus.NOT_ELIGIBLE
    assert plant.verified_at is None


def test_checking_again_on_demand_updates_the_status(client, referente, community, point):
    plant = factories.make_plant(point, primary_substation="")
    client.force_login(referente)

    response = client.post(reverse("plants:check", args=[plant.pk]))

    plant.refresh_from_db()
    assert response.status_code == 302
    assert plant.eligibility_status == EligibilityStatus.TO_CHECK


def test_member_sees_the_plant_checks_but_not_its_readings_or_owner(
    client, member_user, community, point
):
    plant = factories.make_plant(point, name="FV oratorio")
    services.check_community_plants(community=community, actor=None, now=NOW)
    client.force_login(member_user)

    response = client.get(reverse("plant_detail", args=[plant.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="eligibility-checks"' in page
    assert "point-chart-data" not in page
    assert "Bianchi" not in page


def test_outsider_cannot_open_a_plant(client, outsider, community, point):
    plant = factories.make_plant(point)
    client.force_login(outsider)

    assert client.get(reverse("plant_detail", args=[plant.pk])).status_code == 403
    assert client.get(reverse("plants:plant_list", args=[community.pk])).status_code == 403
