"""Load profiles of a connection point or a configuration, and estimates of missing hours.

The hourly series come from the dashboards' reads (the winning source of each hour); the
arithmetic is cercalc.profiles. See docs/algorithms/profiles.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from cer.audit.services import record
from cer.dashboards import queries
from cer.dashboards.services import bump_readings_version
from cer.metering.models import HourlyReading, ReadingQuality, ReadingSource
from cer.plants.models import ConnectionPoint
from cercalc import periods
from cercalc.periods import Period
from cercalc.profiles import Profiles, compute_profiles, estimate_missing

logger = logging.getLogger(__name__)

_ESTIMATE_INDEX = queries.SOURCE_CODES.index(ReadingSource.ESTIMATED)


def _real(series: queries.PointSeries) -> np.ndarray:
    """Hours whose winning reading is a real one: estimates never feed the profiles."""
    return series.present & (series.source_index != _ESTIMATE_INDEX)


def point_profiles(*, point: ConnectionPoint, period: Period) -> Profiles:
    """Compute a point's average days and totals over a period from its real readings."""
    series = queries.point_series(point_ids=[point.pk], period=period)[point.pk]
    real = _real(series)
    return compute_profiles(
        hour_starts_s=period.hour_starts_s(),
        injected_wh=series.injected_wh * real,
        withdrawn_wh=series.withdrawn_wh * real,
        present=real,
    )


@dataclass(frozen=True)
class GapEstimate:
    """What estimating a month did: hours estimated (written unless a dry run) and not."""

    estimated_hours: int
    not_estimated_hours: int
    written_rows: int


def estimate_gaps(
    *, points: Sequence[ConnectionPoint], month: Period, now: dt.datetime, dry_run: bool = False
) -> GapEstimate:
    """Write an EST reading for each hour of the month that has no reading, per point.

    Each point's estimates come from the average days of the month's calendar year, computed
    from its real readings. Only hours ended at `now` are candidates. Rows are inserted in one
    bulk statement ignoring conflicts on (point, hour, source), so a rerun writes nothing; an
    hour with any reading is never estimated, and the default source order ranks EST last, so
    a real reading arriving later wins.
    """
    year = periods.year(month.start.year)
    year_series = queries.point_series(point_ids=[p.pk for p in points], period=year)
    year_starts = year.hour_starts_s()
    month_start_s = int(month.utc_bounds()[0].timestamp())
    first = int(np.searchsorted(year_starts, month_start_s))
    month_starts = month.hour_starts_s()
    in_month = slice(first, first + month_starts.size)
    ended = month_starts + 3600 <= int(now.timestamp())
    rows: list[HourlyReading] = []
    estimated_total = not_estimated_total = 0
    for point in points:
        series = year_series[point.pk]
        real = _real(series)
        profiles = compute_profiles(
            hour_starts_s=year_starts,
            injected_wh=series.injected_wh * real,
            withdrawn_wh=series.withdrawn_wh * real,
            present=real,
        )
        # Hours after `now` are not missing yet: they count as present here.
        present = series.present[in_month] | ~ended
        estimates = estimate_missing(hour_starts_s=month_starts, present=present, profiles=profiles)
        estimated_total += int(estimates.estimated.sum())
        not_estimated_total += int(estimates.not_estimated.sum())
        rows += [
            HourlyReading(
                connection_point=point,
                hour_start=dt.datetime.fromtimestamp(int(month_starts[i]), tz=dt.UTC),
                injected_wh=int(estimates.injected_wh[i]),
                withdrawn_wh=int(estimates.withdrawn_wh[i]),
                source=ReadingSource.ESTIMATED,
                quality=ReadingQuality.ESTIMATED,
            )
            for i in np.flatnonzero(estimates.estimated)
        ]
    written = 0
    if rows and not dry_run:
        written = _write(rows, points=points, month=month, now=now)
    logger.info(
        "estimated %s hours of %s, %s without estimate, %s rows written",
        estimated_total,
        month.key,
        not_estimated_total,
        written,
    )
    return GapEstimate(
        estimated_hours=estimated_total,
        not_estimated_hours=not_estimated_total,
        written_rows=written,
    )


def _write(
    rows: list[HourlyReading],
    *,
    points: Sequence[ConnectionPoint],
    month: Period,
    now: dt.datetime,
) -> int:
    start, end = month.utc_bounds()
    estimates = HourlyReading.objects.filter(
        connection_point__in=points, source=ReadingSource.ESTIMATED
    ).between(start, end)
    with transaction.atomic():
        # With ignore_conflicts PostgreSQL returns no ids: count the rows around the insert.
        before = estimates.count()
        HourlyReading.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
        written = estimates.count() - before
        by_point: dict[int, int] = {}
        for row in rows:
            by_point[row.connection_point_id] = by_point.get(row.connection_point_id, 0) + 1
        for point in points:
            if by_point.get(point.pk):
                record(
                    actor=None,
                    code="metering.readings.estimated",
                    now=now,
                    target=point,
                    community=point.configuration.community,
                    changes={"month": month.key, "hours": by_point[point.pk]},
                )
        if written:
            # The communities' cached dashboard figures are stale from this commit on.
            bump_readings_version(
                community_ids={point.configuration.community_id for point in points}, now=now
            )
    return written
