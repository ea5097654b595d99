"""The back office registers a plant that breaks a rule, and sees it flagged with the reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User

from cer.access.rules import BACK_OFFICE_GROUP
from cer.members.models import Membership
from cer.plants.models import EligibilityStatus, Plant
from tests import factories
from tests.dashboards.browser import PASSWORD, serious_accessibility_violations
from tests.e2e.login import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def back_office(db):
    user = User.objects.create_user("sportello", password=PASSWORD)
    user.groups.add(Group.objects.get(name=BACK_OFFICE_GROUP))
    return user


@pytest.fixture
def point(community):
    holder = factories.make_member(first_name="Giulia", last_name="Bianchi")
    Membership.objects.create(member=holder, community=community, valid_from=dt.date(2024, 9, 12))
    return factories.make_connection_point(community, holder, has_injection=True)


def test_back_office_registers_a_too_large_plant_and_sees_why_it_is_not_eligible(
    page, live_server, back_office, community, point
):
    log_in(page, live_server, "sportello")
    page.goto(f"{live_server.url}/plants/communities/{community.pk}/new/")
    assert serious_accessibility_violations(page) == []

    page.fill("#id_name", "FV zona industriale")
    page.select_option("#id_connection_point", str(point.pk))
    page.select_option("#id_owner", str(point.holder.pk))
    page.select_option("#id_source", "PV")
    page.fill("#id_power_kw", "1200")
    page.fill("#id_entry_into_service_date", "2024-11-05")
    page.fill("#id_primary_substation", point.configuration.primary_substation)
    with page.expect_navigation():
        page.click("main form button[type=submit]")

    plant = Plant.objects.get(name="FV zona industriale")
    assert plant.eligibility_status == EligibilityStatus.NOT_ELIGIBLE
    assert page.locator("h1").inner_text() == "FV zona industriale"
    power_row = page.locator("#eligibility-checks tr.check-POWER")
    assert power_row.locator(".outcome-FAIL").count() == 1
    # Figures read the Italian way, with a thousands dot.
    assert "1.200" in power_row.inner_text()
    assert "1.000" in power_row.inner_text()
    assert serious_accessibility_violations(page) == []


def test_back_office_sees_every_wrong_field_named_and_its_input_kept(
    page, live_server, back_office, community, point
):
    log_in(page, live_server, "sportello")
    page.goto(f"{live_server.url}/plants/communities/{community.pk}/new/")

    page.fill("#id_name", "FV senza potenza")
    page.fill("#id_power_kw", "-5")
    with page.expect_navigation():
        page.click("main form button[type=submit]")

    summary = page.locator("#form-errors")
    assert summary.is_visible()
    assert summary.locator("a[href='#id_power_kw']").count() == 1
    assert summary.locator("a[href='#id_connection_point']").count() == 1
    assert page.input_value("#id_name") == "FV senza potenza"
    assert page.input_value("#id_power_kw") == "-5"
    assert Plant.objects.count() == 0
    assert serious_accessibility_violations(page) == []


def test_back_office_marks_a_plant_verified(page, live_server, back_office, community, point):
    plant = factories.make_plant(point, name="FV asilo", primary_substation="")
    log_in(page, live_server, "sportello")
    page.goto(f"{live_server.url}/plants/{plant.pk}/")

    with page.expect_navigation():
        page.click("form[action$='/check/'] button")
    with page.expect_navigation():
        page.click("form[action$='/verify/'] button")

    assert page.locator("form[action$='/verify/']").count() == 0

    plant.refresh_from_db()
    assert plant.verified_by == back_office
    assert plant.eligibility_status == EligibilityStatus.TO_CHECK
