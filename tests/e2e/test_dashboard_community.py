"""The referente reads the community dashboard, changes period, and on a phone too."""

from __future__ import annotations

import datetime as dt

import pytest

from cer.metering.models import HourlyReading
from tests import factories
from tests.dashboards.browser import serious_accessibility_violations
from tests.e2e.login import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def readings(community):
    producer = factories.make_connection_point(
        community, factories.make_member(), has_injection=True
    )
    consumer = factories.make_connection_point(community, factories.make_member())
    factories.make_plant(producer)
    start = dt.datetime(2025, 9, 30, 22, tzinfo=dt.UTC)  # 1 October 00:00 in Rome
    rows = []
    for hour in range(745):
        moment = start + dt.timedelta(hours=hour)
        rows.append(
            HourlyReading(
                connection_point=producer, hour_start=moment, injected_wh=800, source="DSO"
            )
        )
        rows.append(
            HourlyReading(
                connection_point=consumer, hour_start=moment, withdrawn_wh=500, source="DSO"
            )
        )
    HourlyReading.objects.bulk_create(rows)


def test_referente_reads_the_month_then_switches_to_the_year(
    page, live_server, referente, community, readings
):
    log_in(page, live_server, "referente")

    page.goto(f"{live_server.url}/dashboard/communities/{community.pk}/")
    page.wait_for_selector("#community-chart canvas")

    assert page.evaluate("window.cerDashboardCharts[0].data[0].length") == 745
    assert page.locator("#completeness-pct").inner_text().startswith("100")
    assert page.locator("#incentive-estimate").is_visible()
    assert serious_accessibility_violations(page) == []

    page.select_option("#period-select", "2025")
    page.click(".dash-period button[type=submit]")
    page.wait_for_selector("#community-chart canvas")

    assert "period=2025" in page.url
    assert page.evaluate("window.cerDashboardCharts[0].data[0].length") == 365


def test_dashboard_fits_a_phone_screen(browser, live_server, referente, community, readings):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="it-IT")
    phone = context.new_page()
    try:
        log_in(phone, live_server, "referente")
        phone.goto(f"{live_server.url}/dashboard/communities/{community.pk}/?period=2025-10")
        phone.wait_for_selector("#community-chart canvas")

        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert serious_accessibility_violations(phone) == []
    finally:
        context.close()
