"""The point page draws the month's typical day, weekdays against weekends, within the CSP."""

from __future__ import annotations

import datetime as dt

import pytest

from cer.metering.models import HourlyReading
from tests import factories
from tests.dashboards.browser import serious_accessibility_violations
from tests.e2e.login import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
MARCH_FIRST_HOUR = dt.datetime(2025, 2, 28, 23, tzinfo=dt.UTC)  # 1 March 00:00 in Rome


def test_member_sees_the_typical_day_of_their_point(page, live_server, community, member_user):
    point = factories.make_connection_point(community, member_user.member, has_injection=True)
    HourlyReading.objects.bulk_create(
        HourlyReading(
            connection_point=point,
            hour_start=MARCH_FIRST_HOUR + dt.timedelta(hours=hour),
            injected_wh=300,
            withdrawn_wh=100 + hour % 24,
            source="DSO",
        )
        for hour in range(24 * 7)
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Content Security" in message.text else None,
    )
    log_in(page, live_server, "socio")

    page.goto(f"{live_server.url}/dashboard/points/{point.pk}/?period=2025-03")
    page.wait_for_selector("#typical-day-chart canvas")

    data = page.evaluate("window.cerTypicalDayCharts[0].data")
    assert data[0] == list(range(24))
    assert len(data) == 5  # hours, then injected and withdrawn for weekdays and weekends
    assert errors == []
    assert serious_accessibility_violations(page) == []
