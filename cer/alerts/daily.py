"""The day figures rules 2, 4 and 5 read, from one scan of the hourly readings.

One query, grouped by point and source, sums the windows the three rules need: the hours
present on each of the last MISSING_LOOKBACK_DAYS whole days (rule 2), the withdrawal of
yesterday and of the same weekday in each of the USUAL_WEEKS weeks before (rule 5), and
yesterday's injection (rule 4). Several sources may hold the same hour of a point (device,
grid operator, manual): per point and window the source with the most hours or energy is
taken, so an hour counted by two sources is not counted twice.

The result is computed once per evaluation and kept on its scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cer.alerts.findings import Scope
from cer.alerts.models import AlertRule
from cer.metering import day_sums

# Rule 2 looks back over the last whole days: a gap is told while it is this recent.
MISSING_LOOKBACK_DAYS = 7
# Rule 5 compares a day with the same weekday of the weeks before.
USUAL_WEEKS = 4

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DailySums:
    """Per point (rows, sorted by id): hours present, withdrawal and injection by window.

    `hours[:, i]` counts the hours of `missing_days[i]`; `withdrawn_wh[:, i]` sums
    `usual_days[i]` (the last one is yesterday), -1 where the point has no reading that
    day; `injected_wh` is yesterday's injection [Wh].
    """

    points: IntArray
    pods: list[str]
    community: IntArray
    missing_days: list[dt.date]
    hours: IntArray
    usual_days: list[dt.date]
    withdrawn_wh: IntArray
    injected_wh: IntArray

    def of(self, communities: list[int]) -> npt.NDArray[np.bool_]:
        """The rows of points in `communities`."""
        return np.isin(self.community, np.array(communities, dtype=np.int64))


_RULES = (AlertRule.READINGS_MISSING, AlertRule.LOW_PRODUCTION, AlertRule.HIGH_CONSUMPTION)


def daily_sums(scope: Scope) -> DailySums:
    """The day figures of every point of the communities watching rule 2, 4 or 5."""
    cached = scope.cache.get("daily")
    if isinstance(cached, DailySums):
        return cached
    communities = sorted({pk for rule in _RULES for pk in scope.communities_with(rule)})
    yesterday = scope.yesterday.start
    missing_days = [scope.today - dt.timedelta(days=n) for n in range(MISSING_LOOKBACK_DAYS, 0, -1)]
    usual_days = [yesterday - dt.timedelta(weeks=n) for n in range(USUAL_WEEKS, -1, -1)]
    rows = day_sums.day_sums_by_point_source(
        community_ids=communities,
        hour_days=missing_days,
        withdrawn_days=usual_days,
        injected_days=[yesterday],
    )
    n_missing, n_usual = len(missing_days), len(usual_days)
    point_of_row = np.array([row[0] for row in rows], dtype=np.int64)
    points, first_row, index = np.unique(point_of_row, return_index=True, return_inverse=True)
    # Per row: hours by day, withdrawal by day (-1 for no reading), injection yesterday.
    figures = np.array(
        [[-1 if value is None else value for value in row[3:]] for row in rows], dtype=np.int64
    ).reshape(len(rows), n_missing + n_usual + 1)
    best = np.full((len(points), figures.shape[1]), -1, dtype=np.int64)
    np.maximum.at(best, index, figures)
    return scope.cache.setdefault(
        "daily",
        DailySums(
            points=points,
            pods=[rows[i][1] for i in first_row],
            community=np.array([rows[i][2] for i in first_row], dtype=np.int64),
            missing_days=missing_days,
            hours=np.maximum(best[:, :n_missing], 0),
            usual_days=usual_days,
            withdrawn_wh=best[:, n_missing : n_missing + n_usual],
            injected_wh=np.maximum(best[:, -1], 0),
        ),
    )
