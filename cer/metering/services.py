"""Reading series out of the hourly table, in bulk, as NumPy arrays."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import Max, Sum

from cer.metering.models import HourlyReading

ROME = ZoneInfo("Europe/Rome")


@dataclass(frozen=True)
class HourlySeries:
    """Hourly totals over a set of connection points [Wh], keyed by UTC hour start."""

    hour_starts: np.ndarray  # int64 unix seconds of each hour's UTC start
    injected_wh: np.ndarray  # int64
    withdrawn_wh: np.ndarray  # int64


def rome_year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC instants that bound the Europe/Rome calendar year [start, end)."""
    start = dt.datetime(year, 1, 1, tzinfo=ROME).astimezone(dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=ROME).astimezone(dt.UTC)
    return start, end


def latest_year_with_readings(point_ids: list[int]) -> int | None:
    """Return the Europe/Rome year of the newest reading of these points, if any."""
    newest = HourlyReading.objects.filter(connection_point_id__in=point_ids).aggregate(
        newest=Max("hour_start")
    )["newest"]
    return newest.astimezone(ROME).year if newest else None


def community_hourly_totals(
    point_ids: list[int], *, start: dt.datetime, end: dt.datetime
) -> HourlySeries:
    """Sum injection and withdrawal of the points per hour in [start, end), in the database.

    Every hour of the period is present in the result; an hour without readings is 0.
    """
    rows = (
        HourlyReading.objects.filter(connection_point_id__in=point_ids)
        .between(start, end)
        .values("hour_start")
        .annotate(injected=Sum("injected_wh"), withdrawn=Sum("withdrawn_wh"))
        .order_by("hour_start")
        .values_list("hour_start", "injected", "withdrawn")
    )
    first = int(start.timestamp())
    hours = int((end - start).total_seconds()) // 3600
    hour_starts = first + 3600 * np.arange(hours, dtype=np.int64)
    injected = np.zeros(hours, dtype=np.int64)
    withdrawn = np.zeros(hours, dtype=np.int64)
    data = list(rows)
    if data:
        stamps, inj, wdr = zip(*data, strict=True)
        index = (np.array([s.timestamp() for s in stamps], dtype=np.int64) - first) // 3600
        injected[index] = np.array(inj, dtype=np.int64)
        withdrawn[index] = np.array(wdr, dtype=np.int64)
    return HourlySeries(hour_starts=hour_starts, injected_wh=injected, withdrawn_wh=withdrawn)
