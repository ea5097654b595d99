"""Builders for the alert tests: a managed community, points with hourly readings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.metering.models import HourlyReading
from cercalc import periods
from tests import factories

# The Monday after the last Sunday of October 2025: "yesterday" has 25 hours.
NOW = dt.datetime(2025, 10, 27, 10, 0, tzinfo=dt.UTC)
YESTERDAY = dt.date(2025, 10, 26)


@pytest.fixture
def now() -> dt.datetime:
    return NOW


def make_point(community, *, injection: bool = False, **plant):
    """A member's point; with `injection`, a PV plant behind it (`plant` overrides)."""
    holder = factories.make_membership(community).member
    point = factories.make_connection_point(
        community, holder, has_injection=injection, contracted_power_kw=Decimal("6")
    )
    if injection:
        factories.make_plant(point, **{"power_kw": Decimal("10"), **plant})
    return point


def add_day(
    point,
    day: dt.date,
    *,
    withdrawn_wh: int = 500,
    injected_wh: int = 0,
    skip: int = 0,
    source: str = "DEV",
) -> None:
    """One Europe/Rome day of hourly readings, spread evenly; the last `skip` hours left out.

    `withdrawn_wh` and `injected_wh` are the day's totals [Wh].
    """
    starts = periods.day(day).hour_starts_s()
    hours = len(starts)
    HourlyReading.objects.bulk_create(
        HourlyReading(
            connection_point=point,
            hour_start=dt.datetime.fromtimestamp(int(start), tz=dt.UTC),
            withdrawn_wh=withdrawn_wh // hours,
            injected_wh=injected_wh // hours,
            source=source,
        )
        for start in starts[: hours - skip]
    )
