"""The "typical day" chart: a month's average day, weekday against weekend, per local hour."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from cer.dashboards.charts import locale
from cer.dashboards.services import CommunityPeriodData
from cer.metering.profiles import point_profiles
from cer.plants.models import ConnectionPoint
from cercalc.periods import HOUR_S, Period
from cercalc.profiles import AverageDay, DayType, Profiles, compute_profiles


def _kwh_or_gap(average: AverageDay | None, values_name: str) -> list[float | None]:
    if average is None:
        return [None] * 24
    values = getattr(average, values_name)
    # Integer Wh to kWh for display only; an hour no day read stays a gap.
    return [
        round(int(value) / 1000, 3) if days else None
        for value, days in zip(values, average.days, strict=True)
    ]


def typical_day_chart(profiles: Profiles, *, year: int, month: int) -> dict[str, Any] | None:
    """Return the uPlot payload of the month's average days, or None without any reading."""
    weekday = profiles.average_days.get((year, month, DayType.WEEKDAY))
    weekend = profiles.average_days.get((year, month, DayType.WEEKEND))
    if weekday is None and weekend is None:
        return None
    return {
        "hours": list(range(24)),
        "series": [
            _kwh_or_gap(weekday, "injected_wh"),
            _kwh_or_gap(weekday, "withdrawn_wh"),
            _kwh_or_gap(weekend, "injected_wh"),
            _kwh_or_gap(weekend, "withdrawn_wh"),
        ],
        "labels": [
            _("Injected, weekdays [kWh]"),
            _("Withdrawn, weekdays [kWh]"),
            _("Injected, weekends and holidays [kWh]"),
            _("Withdrawn, weekends and holidays [kWh]"),
        ],
        "locale": locale(),
        "days": {
            "weekday": int(weekday.days.max()) if weekday is not None else 0,
            "weekend": int(weekend.days.max()) if weekend is not None else 0,
        },
    }


def typical_day_context(point: ConnectionPoint, *, period: Period) -> dict[str, Any]:
    """Context of the point page's "typical day" section: a month's chart, or why there is none."""
    if not period.is_month:
        return {"typical_day": None, "typical_day_needs_month": True}
    profiles = point_profiles(point=point, period=period)
    return {
        "typical_day": typical_day_chart(
            profiles, year=period.start.year, month=period.start.month
        ),
        "typical_day_needs_month": False,
        "typical_day_of_point": True,
    }


def community_typical_day_context(data: CommunityPeriodData, *, now: dt.datetime) -> dict[str, Any]:
    """Context of the community's "typical day": its points summed, every ended hour counted.

    The summed series has no gaps of its own: a point without a reading adds nothing to the
    hour, and estimated readings count like the others (as in the community's totals).
    """
    period = data.period
    if not period.is_month:
        return {"typical_day": None, "typical_day_needs_month": True}
    profiles = compute_profiles(
        hour_starts_s=data.hour_starts_s,
        injected_wh=data.injected_wh,
        withdrawn_wh=data.withdrawn_wh,
        present=data.hour_starts_s + HOUR_S <= int(now.timestamp()),
    )
    return {
        "typical_day": typical_day_chart(
            profiles, year=period.start.year, month=period.start.month
        ),
        "typical_day_needs_month": False,
    }
