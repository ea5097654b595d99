"""Load profiles of a connection point or a configuration, and estimates of missing hours.

The hourly series come from cer.metering.series (the winning source of each hour); the
arithmetic is cercalc.profiles. See docs/algorithms/profiles.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cer.metering import recording
from cer.metering import series as readings
from cer.metering.models import ReadingQuality, ReadingSource
from cer.plants.models import ConnectionPoint
from cercalc import periods
from cercalc.periods import Period
from cercalc.profiles import Profiles, compute_profiles, estimate_missing

logger = logging.getLogger(__name__)

_ESTIMATE_INDEX = readings.SOURCE_CODES.index(ReadingSource.ESTIMATED)


def _real(series: readings.PointSeries) -> np.ndarray:
    """Hours whose winning reading is a real one: estimates never feed the profiles."""
    return series.present & (series.source_index != _ESTIMATE_INDEX)


def point_profiles(*, point: ConnectionPoint, period: Period) -> Profiles:
    """Compute a point's average days and totals over a period from its real readings."""
    series = readings.point_series(point_ids=[point.pk], period=period)[point.pk]
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
    year_series = readings.point_series(point_ids=[p.pk for p in points], period=year)
    year_starts = year.hour_starts_s()
    month_start_s = int(month.utc_bounds()[0].timestamp())
    first = int(np.searchsorted(year_starts, month_start_s))
    month_starts = month.hour_starts_s()
    in_month = slice(first, first + month_starts.size)
    ended = month_starts + 3600 <= int(now.timestamp())
    parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
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
        hours = np.flatnonzero(estimates.estimated)
        if hours.size:
            parts.append(
                (
                    point.pk,
                    month_starts[hours],
                    estimates.injected_wh[hours].astype(np.int64),
                    estimates.withdrawn_wh[hours].astype(np.int64),
                )
            )
    written = 0
    if parts and not dry_run:
        written = _write(parts, month=month, now=now)
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
    parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]], *, month: Period, now: dt.datetime
) -> int:
    """Insert the estimates (point, hour starts, injected, withdrawn) where no EST row exists."""
    point_ids = [np.full(hours.size, pk, dtype=np.int64) for pk, hours, _, _ in parts]
    rows = recording.HourlyRows(
        point_id=np.concatenate(point_ids),
        hour_start_s=np.concatenate([hours for _, hours, _, _ in parts]).astype(np.int64),
        injected_wh=np.concatenate([injected for _, _, injected, _ in parts]),
        withdrawn_wh=np.concatenate([withdrawn for _, _, _, withdrawn in parts]),
        quality=np.full(sum(ids.size for ids in point_ids), ReadingQuality.ESTIMATED.value),
    )
    counts = recording.write_hourly(
        rows=rows,
        source=ReadingSource.ESTIMATED,
        # A rerun writes nothing: an estimate already stored for an hour stays.
        mode=recording.WriteMode.KEEP,
        now=now,
        audit=recording.AuditNote(
            code="metering.readings.estimated", actor=None, details={"month": month.key}
        ),
    )
    return counts.inserted
