"""A member logs in and sees only their own data; a member of another community is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from cer.members.models import Membership
from cer.metering.models import HourlyReading
from tests import factories
from tests.dashboards.browser import serious_accessibility_violations
from tests.e2e.login import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
MARCH_NOON = dt.datetime(2025, 3, 3, 11, tzinfo=dt.UTC)


@pytest.fixture
def points(community, member_user):
    own = factories.make_connection_point(community, member_user.member, pod="IT001E80000001")
    neighbour = factories.make_member(first_name="Paolo", last_name="Vicino")
    Membership.objects.create(member=neighbour, community=community, valid_from=dt.date(2024, 9, 1))
    other = factories.make_connection_point(
        community, neighbour, pod="IT001E80000002", has_injection=True
    )
    factories.make_plant(other, name="FV Vicino")
    HourlyReading.objects.bulk_create(
        [
            HourlyReading(
                connection_point=own,
                hour_start=MARCH_NOON + dt.timedelta(hours=h),
                withdrawn_wh=500 + h,
                source="DSO",
            )
            for h in range(48)
        ]
        + [
            HourlyReading(
                connection_point=other,
                hour_start=MARCH_NOON + dt.timedelta(hours=h),
                injected_wh=300,
                withdrawn_wh=100,
                source="DSO",
            )
            for h in range(48)
        ]
    )
    return own, other


def test_member_sees_their_own_energy_and_not_their_neighbours(
    page, live_server, member_user, points
):
    own, other = points
    log_in(page, live_server, "socio")

    page.goto(f"{live_server.url}/dashboard/me/?period=2025-03")

    body = page.locator("main").inner_text()
    assert own.pod in body
    assert other.pod not in body
    assert "Vicino" not in body
    page.wait_for_selector("#member-chart canvas")
    assert page.evaluate("window.cerDashboardCharts[0].data[0].length") == 743
    assert serious_accessibility_violations(page) == []


def test_member_opens_their_point_but_not_the_neighbours(page, live_server, member_user, points):
    own, other = points
    log_in(page, live_server, "socio")

    page.goto(f"{live_server.url}/dashboard/me/?period=2025-03")
    page.click(f"#own-points a:has-text('{own.pod}')")
    page.wait_for_selector("#point-chart canvas")
    refused = page.goto(f"{live_server.url}/dashboard/points/{other.pk}/")

    assert refused.status == 403


def test_point_page_shows_its_gaps_and_passes_axe(page, live_server, member_user, points):
    own, _ = points
    log_in(page, live_server, "socio")

    page.goto(f"{live_server.url}/dashboard/points/{own.pk}/?period=2025-03")

    assert page.locator("#reading-gaps tbody tr").count() == 2
    assert page.locator("#reading-sources li").count() == 1
    assert serious_accessibility_violations(page) == []


def test_member_of_another_community_is_refused_everywhere(
    page, live_server, outsider, community, points
):
    own, other = points
    plant = other.plants.get()
    log_in(page, live_server, "estraneo")

    for path in (
        f"/dashboard/communities/{community.pk}/",
        f"/dashboard/points/{own.pk}/",
        f"/plants/{plant.pk}/",
        f"/plants/communities/{community.pk}/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
