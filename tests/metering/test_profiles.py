"""Profiles and estimates against the database: the command, the API and the point page."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cer.audit.models import AuditEntry
from cer.metering import series as readings
from cer.metering.models import HourlyReading
from cer.metering.profiles import estimate_gaps
from cercalc import periods
from cercalc.periods import ROME, Period
from cercalc.profiles import day_type_of
from tests import factories
from tests.api.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _local(year, month, day, hour, *, fold=0):
    return dt.datetime(year, month, day, hour, tzinfo=ROME, fold=fold).astimezone(dt.UTC)


def _fill(point, period: Period, *, missing=(), source="DSO", weekday_wh=100, weekend_wh=300):
    """A reading for every hour of the period but `missing`: weekdays and weekends differ."""
    start, end = period.utc_bounds()
    rows = []
    hour = start
    while hour < end:
        if hour not in missing:
            weekend = day_type_of(hour.astimezone(ROME).date()) == "WEEKEND"
            rows.append(
                HourlyReading(
                    connection_point=point,
                    hour_start=hour,
                    injected_wh=7,
                    withdrawn_wh=weekend_wh if weekend else weekday_wh,
                    source=source,
                )
            )
        hour += HOUR
    HourlyReading.objects.bulk_create(rows)
    return len(rows)


def _estimates(point):
    return {
        row.hour_start: (row.injected_wh, row.withdrawn_wh, row.quality)
        for row in HourlyReading.objects.filter(connection_point=point, source="EST")
    }


MARCH_GAPS = (
    _local(2025, 3, 30, 1),  # the 23-hour Sunday
    _local(2025, 3, 30, 3),  # its hour after the missing 02:00
    _local(2025, 3, 31, 10),  # a Monday
)


def test_gaps_of_a_march_with_its_23_hour_day_are_estimated_by_day_type(point):
    _fill(point, periods.month(2025, 3), missing=MARCH_GAPS)

    outcome = estimate_gaps(points=[point], month=periods.month(2025, 3), now=NOW)

    assert (outcome.estimated_hours, outcome.not_estimated_hours) == (3, 0)
    assert outcome.written_rows == 3
    assert _estimates(point) == {
        MARCH_GAPS[0]: (7, 300, "EST"),
        MARCH_GAPS[1]: (7, 300, "EST"),
        MARCH_GAPS[2]: (7, 100, "EST"),
    }
    assert AuditEntry.objects.filter(code="metering.readings.estimated").count() == 1


def test_a_second_run_writes_nothing(point):
    _fill(point, periods.month(2025, 3), missing=MARCH_GAPS)
    estimate_gaps(points=[point], month=periods.month(2025, 3), now=NOW)

    again = estimate_gaps(points=[point], month=periods.month(2025, 3), now=NOW)

    assert (again.estimated_hours, again.not_estimated_hours, again.written_rows) == (0, 0, 0)
    assert HourlyReading.objects.filter(connection_point=point, source="EST").count() == 3


def test_the_repeated_october_hour_is_estimated_from_other_weekend_nights(point):
    # 26 October 2025 has 25 hours; the second 02:00 (02:00+01:00, 01:00 UTC) is missing.
    second_two_oclock = _local(2025, 10, 26, 2, fold=1)
    assert second_two_oclock == dt.datetime(2025, 10, 26, 1, tzinfo=dt.UTC)
    written = _fill(point, periods.month(2025, 10), missing=(second_two_oclock,))

    outcome = estimate_gaps(points=[point], month=periods.month(2025, 10), now=NOW)

    assert written == 31 * 24  # 745 hours in the month, one missing
    assert outcome.estimated_hours == 1
    assert _estimates(point) == {second_two_oclock: (7, 300, "EST")}


def test_an_estimate_never_replaces_a_real_reading(point):
    gap = _local(2025, 3, 31, 10)
    _fill(point, periods.month(2025, 3), missing=(gap,))
    estimate_gaps(points=[point], month=periods.month(2025, 3), now=NOW)

    HourlyReading.objects.create(
        connection_point=point, hour_start=gap, withdrawn_wh=555, source="MAN"
    )
    series = readings.point_series(point_ids=[point.pk], period=periods.month(2025, 3))[point.pk]
    index = int((gap - periods.month(2025, 3).utc_bounds()[0]) / HOUR)

    assert series.withdrawn_wh[index] == 555
    assert estimate_gaps(points=[point], month=periods.month(2025, 3), now=NOW).written_rows == 0


def test_hours_not_yet_ended_are_not_missing(point):
    now = _local(2026, 1, 2, 5)  # nothing read this month yet
    _fill(point, periods.month(2025, 12))

    outcome = estimate_gaps(points=[point], month=periods.month(2026, 1), now=now)

    # 1 January (a holiday) and 2 January up to 05:00: 29 hours, none of 2026 read yet.
    assert (outcome.estimated_hours, outcome.not_estimated_hours) == (0, 29)
    assert outcome.written_rows == 0


def test_the_command_reports_and_a_dry_run_writes_nothing(point):
    _fill(point, periods.month(2025, 3), missing=MARCH_GAPS)
    output = StringIO()

    call_command(
        "estimate_gaps", "--point", str(point.pk), "--month", "2025-03", "--dry-run", stdout=output
    )

    assert "estimated 3 hours, could not estimate 0; would write 3 readings" in output.getvalue()
    assert not HourlyReading.objects.filter(source="EST").exists()


def test_the_command_estimates_every_point_of_a_configuration(point, community):
    other = factories.make_connection_point(community, factories.make_membership(community).member)
    _fill(point, periods.month(2025, 3), missing=MARCH_GAPS)
    _fill(other, periods.month(2025, 3), missing=MARCH_GAPS[:1])
    output = StringIO()

    call_command(
        "estimate_gaps",
        "--configuration",
        str(point.configuration_id),
        "--month",
        "2025-03",
        stdout=output,
    )
    call_command(
        "estimate_gaps",
        "--configuration",
        str(point.configuration_id),
        "--month",
        "2025-03",
        stdout=output,
    )

    lines = output.getvalue().splitlines()
    assert lines[0] == "2025-03: estimated 4 hours, could not estimate 0; wrote 4 readings"
    assert lines[1] == "2025-03: estimated 0 hours, could not estimate 0; wrote 0 readings"
    assert len(_estimates(other)) == 1


def test_the_command_refuses_a_bad_month_or_an_unknown_point(point):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("estimate_gaps", "--point", str(point.pk), "--month", "2025")
    with pytest.raises(CommandError, match="no connection point"):
        call_command("estimate_gaps", "--point", "999999", "--month", "2025-03")


# --- the API --------------------------------------------------------------------------------


def test_the_api_returns_integer_wh_averages_per_month_and_day_type(point, referente):
    _fill(point, periods.month(2025, 3), missing=MARCH_GAPS)
    HourlyReading.objects.create(
        connection_point=point, hour_start=_local(2025, 4, 1, 0), withdrawn_wh=999, source="EST"
    )

    response = client_for(referente).get(
        f"/api/v1/connection-points/{point.pk}/profiles", {"year": "2025"}
    )

    body = response.json()
    assert response.status_code == 200
    assert body["year"] == 2025
    assert [(row["month"], row["day_type"]) for row in body["average_days"]] == [
        ("2025-03", "WEEKDAY"),
        ("2025-03", "WEEKEND"),
    ]
    weekday, weekend = body["average_days"]
    assert weekday["withdrawn_wh"] == [100] * 24
    assert weekday["days"][10] == 20  # 21 weekdays in March 2025, one 10:00 missing
    assert weekend["withdrawn_wh"] == [300] * 24
    assert weekend["days"][:4] == [10, 9, 9, 9]
    assert weekend["days"][2] == 9  # 30 March has no 02:00: ten weekend days, nine read it


def test_the_api_refuses_a_malformed_year(point, referente):

    response = client_for(referente).get(
        f"/api/v1/connection-points/{point.pk}/profiles", {"year": "20x5"}
    )

    assert assert_error(response, 400)["message"]


def test_the_api_marks_hours_without_days_as_null(point, referente):
    HourlyReading.objects.create(
        connection_point=point, hour_start=_local(2025, 6, 3, 12), withdrawn_wh=40, source="DEV"
    )

    body = (
        client_for(referente)
        .get(f"/api/v1/connection-points/{point.pk}/profiles", {"year": "2025"})
        .json()
    )

    (june,) = body["average_days"]
    assert june["withdrawn_wh"][12] == 40
    assert june["withdrawn_wh"][11] is None
    assert june["days"][12] == 1


def test_a_member_cannot_read_another_members_profiles(point, member_user):
    response = client_for(member_user).get(f"/api/v1/connection-points/{point.pk}/profiles")

    assert_error(response, 404)


# --- the point page -------------------------------------------------------------------------


def test_the_point_page_shows_the_typical_day_of_the_month(client, point, referente):
    _fill(point, periods.month(2025, 3), missing=MARCH_GAPS)
    client.force_login(referente)

    response = client.get(reverse("dashboards:point", args=[point.pk]), {"period": "2025-03"})

    chart = response.context["typical_day"]
    assert response.status_code == 200
    assert chart["hours"] == list(range(24))
    assert chart["series"][1] == [0.1] * 24  # withdrawn on weekdays [kWh]
    assert chart["series"][3] == [0.3] * 24  # withdrawn on weekends
    assert chart["days"] == {"weekday": 21, "weekend": 10}
    assert b'id="typical-day-data"' in response.content
    assert b"js/typical_day" in response.content


def test_the_point_page_asks_for_a_month_when_a_year_is_chosen(client, point, referente):
    client.force_login(referente)

    response = client.get(reverse("dashboards:point", args=[point.pk]), {"period": "2025"})

    assert response.context["typical_day"] is None
    assert response.context["typical_day_needs_month"] is True


def test_the_community_dashboard_shows_the_typical_day_of_its_points_summed(
    client, point, community, referente
):
    other = factories.make_connection_point(community, factories.make_membership(community).member)
    _fill(point, periods.month(2025, 3))
    _fill(other, periods.month(2025, 3), weekday_wh=50, weekend_wh=150)
    client.force_login(referente)

    response = client.get(
        reverse("dashboards:community", args=[community.pk]), {"period": "2025-03"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="typical-day-data"' in content
    assert '"series": [[0.014' in content  # 7 Wh + 7 Wh injected each hour
    assert "[0.15, 0.15" in content  # weekdays: 100 + 50 Wh withdrawn
    assert "[0.45, 0.45" in content  # weekends: 300 + 150 Wh
    assert "js/typical_day" in content
