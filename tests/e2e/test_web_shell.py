"""A person logs in, opens their community and sees the hourly chart drawn."""

from __future__ import annotations

import datetime as dt

import pytest

from cer.metering.models import HourlyReading
from tests import factories
from tests.e2e.login import log_in

# serialized_rollback restores the municipality list that a transactional flush removes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_referente_logs_in_and_sees_the_chart(page, live_server, referente, community):
    holder = factories.make_member()
    point = factories.make_connection_point(community, holder, has_injection=True)
    factories.make_plant(point, name="FV Biblioteca")
    HourlyReading.objects.bulk_create(
        HourlyReading(
            connection_point=point,
            hour_start=dt.datetime(2025, 6, 1, hour, tzinfo=dt.UTC),
            injected_wh=1000 * hour,
            withdrawn_wh=500,
            source="DSO",
        )
        for hour in range(24)
    )

    log_in(page, live_server, "referente")
    page.click(f"text={community.name}")

    assert page.locator("h1").inner_text() == community.name
    # The community page links the plant list; the plant is on it.
    assert page.locator(f"a[href$='/plants/communities/{community.pk}/']").count() >= 1
    page.wait_for_selector("#energy-chart canvas")
    assert page.evaluate("window.cerEnergyChart.data[1].length") == 8760


def test_wrong_password_shows_an_italian_error(page, live_server, referente):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "referente")
    page.fill("#id_password", "sbagliata")
    page.click("main button[type=submit]")

    assert "Nome utente o password errati" in page.locator("[role=alert]").inner_text()


def test_member_of_another_community_gets_forbidden(page, live_server, outsider, community):
    log_in(page, live_server, "estraneo")

    response = page.goto(f"{live_server.url}/communities/{community.pk}/")

    assert response.status == 403
