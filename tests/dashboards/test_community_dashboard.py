"""The community dashboard: sums by hour in the database, shared energy, completeness, access."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from cer.communities.models import Configuration
from cer.dashboards import services
from cer.dashboards.models import SeriesSnapshot
from cer.metering import versions
from cercalc import periods
from tests import factories
from tests.dashboards.conftest import MARCH_FIRST_HOUR, add_reading


def english(name, args=()):
    with translation.override("en"):
        return reverse(name, args=args)


pytestmark = pytest.mark.django_db
MARCH = periods.month(2025, 3)
AFTER_MARCH = dt.datetime(2025, 4, 2, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def readings(own_point, neighbour_point, producer_point):
    noon = MARCH_FIRST_HOUR + 12 * HOUR
    add_reading(producer_point, noon, injected_wh=1000)
    add_reading(own_point, noon, withdrawn_wh=300)
    add_reading(neighbour_point, noon, withdrawn_wh=400)
    add_reading(producer_point, noon + HOUR, injected_wh=200)
    add_reading(own_point, noon + HOUR, withdrawn_wh=600)
    return noon


def test_shared_energy_is_the_hourly_minimum_of_the_sums(community, readings):
    data = services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)

    assert data.hour_starts_s.size == 743
    assert data.injected_wh[12:14].tolist() == [1000, 200]
    assert data.withdrawn_wh[12:14].tolist() == [700, 600]
    assert data.shared_wh[12:14].tolist() == [700, 200]
    assert int(data.shared_wh.sum()) == 900


def test_shared_energy_is_computed_per_configuration(community, readings, producer_point):
    other = Configuration.objects.create(
        community=community,
        name="Cabina Mirano",
        primary_substation="AC001E77777",
        market_zone="NORD",
        region="Veneto",
    )
    far = factories.make_connection_point(community, factories.make_member(), configuration=other)
    add_reading(far, readings + 2 * HOUR, withdrawn_wh=5000)
    add_reading(producer_point, readings + 2 * HOUR, injected_wh=5000)

    data = services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)

    # The 5 kWh injected and withdrawn under two different primary substations are not shared.
    assert data.shared_wh[14] == 0
    assert int(data.shared_wh.sum()) == 900


def test_the_grid_operators_reading_prevails_over_a_devices(community, own_point, readings):
    add_reading(own_point, readings, withdrawn_wh=9999, source="DEV")
    add_reading(own_point, readings + 5 * HOUR, withdrawn_wh=123, source="EST")

    data = services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)

    assert data.withdrawn_wh[12] == 700
    assert data.withdrawn_wh[17] == 123


def test_completeness_counts_hours_present_over_hours_expected(community, readings):
    data = services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)

    result = services.completeness(data, now=AFTER_MARCH)

    assert result.expected_hours == 743
    assert result.points == 3
    assert result.present_hours == 5
    assert result.pct == round(100 * 5 / (3 * 743), 1)
    assert result.by_point[-1][1] == 2


def test_hours_still_to_come_are_not_expected():
    now = dt.datetime(2025, 3, 30, 1, 30, tzinfo=dt.UTC)  # 03:30 in Rome, after the jump

    # 29 whole days, then 00:00 and 01:00 of the short Sunday; 03:00 is not over yet.
    assert services.expected_hours(MARCH, now=now) == 29 * 24 + 2
    assert services.expected_hours(MARCH, now=MARCH_FIRST_HOUR) == 0


def test_totals_give_ratios(community, readings):
    data = services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)

    totals = services.totals(data)

    assert totals.self_sufficiency_pct == round(100 * 900 / 1300, 1)
    assert totals.self_consumption_pct == 75.0


def test_cached_series_refresh_when_the_readings_version_is_bumped(community, readings, own_point):
    services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)
    add_reading(own_point, readings + 3 * HOUR, withdrawn_wh=50)

    stale = services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)
    versions.bump_readings_version(community_ids=[community.pk], now=AFTER_MARCH)
    fresh = services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)

    assert int(stale.withdrawn_wh.sum()) == 1300
    assert int(fresh.withdrawn_wh.sum()) == 1350
    assert versions.readings_version(community.pk) == 1


def test_the_default_period_is_the_month_of_the_newest_reading(community, readings):
    period = services.default_period(
        community=community, now=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    )

    assert period == MARCH


def test_member_sees_the_communitys_aggregates_but_no_other_point(
    client, member_user, community, readings, neighbour_point
):
    client.force_login(member_user)

    response = client.get(
        reverse("dashboards:community", args=[community.pk]), {"period": "2025-03"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["totals"].shared_wh == 900
    assert neighbour_point.pod not in page
    assert response.context["worst_points"] == []


def test_referente_sees_which_points_miss_readings(client, referente, community, readings):
    client.force_login(referente)

    response = client.get(
        reverse("dashboards:community", args=[community.pk]), {"period": "2025-03"}
    )

    pods = [row["pod"] for row in response.context["worst_points"]]
    assert "IT001E70000002" in pods


def test_year_view_sums_per_day_and_lists_months(client, referente, community, readings):
    client.force_login(referente)

    response = client.get(reverse("dashboards:community", args=[community.pk]), {"period": "2025"})

    assert response.context["chart"]["step"] == "day"
    assert len(response.context["chart"]["t"]) == 365
    assert len(response.context["table"]) == 12
    assert response.context["table"][2]["shared_kwh"] == Decimal("0.9")


def test_an_unreadable_period_falls_back_to_the_default(client, referente, community, readings):
    client.force_login(referente)

    response = client.get(reverse("dashboards:community", args=[community.pk]), {"period": "marzo"})

    assert response.context["period"] == MARCH


def test_outsider_is_refused_the_dashboard(client, outsider, community):
    client.force_login(outsider)

    response = client.get(reverse("dashboards:community", args=[community.pk]))

    assert response.status_code == 403


def test_the_estimate_is_labelled_as_such(client, referente, community, readings):
    client.force_login(referente)

    response = client.get(
        english("dashboards:community", args=[community.pk]), {"period": "2025-03"}
    )

    page = response.content.decode()
    assert "is an estimate, for 1 month not settled yet" in page
    assert "computed by the settlement engine" in page
    assert "when monthly settlement is enabled" not in page


def test_the_first_request_reads_the_months_readings_once(client, referente, community, readings):
    """The energy figures and the estimate of the unsettled month share one read."""
    client.force_login(referente)
    for alias in caches:
        caches[alias].clear()

    with CaptureQueriesContext(connection) as captured:
        response = client.get(
            english("dashboards:community", args=[community.pk]), {"period": "2025-03"}
        )

    assert response.status_code == 200
    assert "is an estimate, for 1 month not settled yet" in response.content.decode()
    month_reads = [
        q["sql"]
        for q in captured
        if "metering_packedmonth" in q["sql"] and "month_start" in q["sql"]
    ]
    assert len(month_reads) == 1, month_reads


def test_another_process_reuses_the_shared_snapshot_until_it_expires(
    community, readings, own_point
):
    services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)
    add_reading(own_point, readings + 3 * HOUR, withdrawn_wh=50)
    caches["local"].clear()  # as a worker that never computed this period

    shared = services.community_period_data(community=community, period=MARCH, now=AFTER_MARCH)
    caches["local"].clear()
    later = AFTER_MARCH + dt.timedelta(seconds=services.CACHE_SECONDS + 1)
    expired = services.community_period_data(community=community, period=MARCH, now=later)

    assert int(shared.withdrawn_wh.sum()) == 1300
    assert int(expired.withdrawn_wh.sum()) == 1350
    assert SeriesSnapshot.objects.filter(community=community).count() == 1
