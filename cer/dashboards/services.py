"""The dashboards' figures: series per community and period, cached, and their summaries.

Caching: the hourly sums of a community over a period (one query per configuration plus
one for completeness) are kept in Django's cache under a key holding the community's
readings version (cer.metering.versions). The readings' writer bumps it, which makes every
cached period of that community stale at once; the entries also expire after
`CACHE_SECONDS`, so data written without a bump appear within minutes.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import numpy as np
from django.core.cache import caches
from django.db import transaction
from django.utils.connection import ConnectionProxy

from cer.communities.models import Community
from cer.dashboards import series
from cer.dashboards.models import SeriesSnapshot
from cer.members.models import Membership
from cer.metering import series as readings
from cer.metering.versions import readings_version
from cer.plants.models import ConnectionPoint
from cercalc import periods, sharing
from cercalc.distribution import active_hours_mask
from cercalc.periods import HOUR_S, Period

# Each process's own memory: entries are versioned, and shared through snapshots.
cache = ConnectionProxy(caches, "local")

CACHE_SECONDS = 300


@dataclass(frozen=True)
class CommunityPeriodData:
    """Hourly sums of a community over a period [Wh], and hours present per point."""

    period: Period
    hour_starts_s: np.ndarray
    injected_wh: np.ndarray
    withdrawn_wh: np.ndarray
    shared_wh: np.ndarray
    point_ids: tuple[int, ...]
    present_hours_by_point: dict[int, int]
    # Per configuration: (point ids, injected, withdrawn, shared) [Wh].
    by_configuration: dict[int, tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray]]


def _points_by_configuration(community: Community) -> dict[int, list[int]]:
    points: dict[int, list[int]] = {}
    for configuration_id, point_id in ConnectionPoint.objects.filter(
        configuration__community=community
    ).values_list("configuration_id", "pk"):
        points.setdefault(configuration_id, []).append(point_id)
    return points


def _snapshot_bytes(data: CommunityPeriodData) -> bytes:
    arrays = {
        "injected_wh": data.injected_wh,
        "withdrawn_wh": data.withdrawn_wh,
        "shared_wh": data.shared_wh,
        "present_ids": np.array(list(data.present_hours_by_point), dtype=np.int64),
        "present_hours": np.array(list(data.present_hours_by_point.values()), dtype=np.int64),
        "configuration_ids": np.array(list(data.by_configuration), dtype=np.int64),
    }
    for configuration_id, (points, inj, wdr, shr) in data.by_configuration.items():
        arrays[f"points_{configuration_id}"] = np.array(points, dtype=np.int64)
        arrays[f"injected_{configuration_id}"] = inj
        arrays[f"withdrawn_{configuration_id}"] = wdr
        arrays[f"shared_{configuration_id}"] = shr
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def _snapshot_data(period: Period, payload: bytes) -> CommunityPeriodData:
    with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
        by_configuration = {
            int(cid): (
                tuple(archive[f"points_{cid}"].tolist()),
                archive[f"injected_{cid}"],
                archive[f"withdrawn_{cid}"],
                archive[f"shared_{cid}"],
            )
            for cid in archive["configuration_ids"].tolist()
        }
        present = dict(
            zip(archive["present_ids"].tolist(), archive["present_hours"].tolist(), strict=True)
        )
        return CommunityPeriodData(
            period=period,
            hour_starts_s=period.hour_starts_s(),
            injected_wh=archive["injected_wh"],
            withdrawn_wh=archive["withdrawn_wh"],
            shared_wh=archive["shared_wh"],
            point_ids=tuple(sorted(p for v in by_configuration.values() for p in v[0])),
            present_hours_by_point=present,
            by_configuration=by_configuration,
        )


def member_series(
    *, point_ids: list[int], period: Period
) -> tuple[dict[int, readings.PointSeries], dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Return each point's series and its injection and withdrawal while its holder is a member.

    A point counts only while its holder is a member of the community, hour by hour, as in
    the settlement (docs/settlement.md, Membership; cercalc.distribution.active_hours_mask).
    """
    by_point = readings.point_series(point_ids=point_ids, period=period)
    injected, withdrawn = _while_members(by_point, point_ids=point_ids, period=period)
    return by_point, injected, withdrawn


def _while_members(
    by_point: dict[int, readings.PointSeries], *, point_ids: list[int], period: Period
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Each point's injection and withdrawal [Wh] in the hours its holder is a member."""
    hour_starts = period.hour_starts_s()
    points = list(
        ConnectionPoint.objects.filter(pk__in=point_ids).values_list(
            "pk", "holder_id", "configuration__community_id"
        )
    )
    spans: dict[tuple[int, int], list[tuple[dt.date, dt.date | None]]] = {}
    for member_id, community_id, valid_from, valid_to in Membership.objects.filter(
        member_id__in={holder for _, holder, _ in points},
        community_id__in={community for _, _, community in points},
    ).values_list("member_id", "community_id", "valid_from", "valid_to"):
        spans.setdefault((member_id, community_id), []).append((valid_from, valid_to))
    injected: dict[int, np.ndarray] = {}
    withdrawn: dict[int, np.ndarray] = {}
    for point_id, holder_id, community_id in points:
        active = active_hours_mask(
            hour_start_utc_s=hour_starts, periods=spans.get((holder_id, community_id), [])
        )
        injected[point_id] = by_point[point_id].injected_wh * active
        withdrawn[point_id] = by_point[point_id].withdrawn_wh * active
    return injected, withdrawn


def _compute(
    community: Community, period: Period, windows: dict[int, readings.ReadingsWindow] | None
) -> CommunityPeriodData:
    """Sum the community's readings over the period, one read per configuration.

    Each configuration's readings are read once as a window (winning readings in the
    community's order); when `windows` is given, the windows are left in it, keyed by
    configuration, for the money figures to estimate from without reading them again.
    """
    hours = period.hours
    first_hour_s = int(period.utc_bounds()[0].timestamp())
    order = readings.order_of_community(community.pk)
    injected = np.zeros(hours, dtype=np.int64)
    withdrawn = np.zeros(hours, dtype=np.int64)
    shared = np.zeros(hours, dtype=np.int64)
    all_points: list[int] = []
    by_configuration = {}
    present: dict[int, int] = {}
    for configuration_id, point_ids in _points_by_configuration(community).items():
        window = readings.readings_window(
            point_ids=point_ids, first_hour_s=first_hour_s, hour_count=hours, order=order
        )
        if windows is not None:
            windows[configuration_id] = window
        by_point = readings.series_by_point(window.grid, point_ids)
        point_injected, point_withdrawn = _while_members(
            by_point, point_ids=point_ids, period=period
        )
        inj = sum((point_injected[p] for p in point_ids), np.zeros(hours, dtype=np.int64))
        wdr = sum((point_withdrawn[p] for p in point_ids), np.zeros(hours, dtype=np.int64))
        # Shared energy is a per-configuration (per primary substation) quantity.
        shr = sharing.shared_energy_by_hour(injected_by_hour_wh=inj, withdrawn_by_hour_wh=wdr)
        injected += inj
        withdrawn += wdr
        shared += shr
        all_points += point_ids
        present.update({p: int(by_point[p].present.sum()) for p in point_ids if p in by_point})
        by_configuration[configuration_id] = (tuple(point_ids), inj, wdr, shr)
    return CommunityPeriodData(
        period=period,
        hour_starts_s=period.hour_starts_s(),
        injected_wh=injected,
        withdrawn_wh=withdrawn,
        shared_wh=shared,
        point_ids=tuple(sorted(all_points)),
        present_hours_by_point=present,
        by_configuration=by_configuration,
    )


def community_period_data(
    *,
    community: Community,
    period: Period,
    now: dt.datetime,
    version: int | None = None,
    windows: dict[int, readings.ReadingsWindow] | None = None,
) -> CommunityPeriodData:
    """Return the community's hourly sums for the period, computed once per version.

    Looked up in the process's cache, then in the snapshot table shared by all workers
    (fresh for `CACHE_SECONDS` after `now`), and only then summed by the database. When
    the readings are read and `windows` is given, the readings read are left in it, per
    configuration (see `_compute`).
    """
    if version is None:
        version = readings_version(community.pk)
    key = f"dashboards:community:{community.pk}:{period.key}:v{version}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    fresh_after = now - dt.timedelta(seconds=CACHE_SECONDS)
    payload = (
        SeriesSnapshot.objects.filter(
            community=community,
            period_key=period.key,
            version=version,
            computed_at__gte=fresh_after,
        )
        .values_list("payload", flat=True)
        .first()
    )
    if payload is not None:
        data = _snapshot_data(period, bytes(payload))
    else:
        data = _compute(community, period, windows)
        with transaction.atomic():
            SeriesSnapshot.objects.filter(community=community, period_key=period.key).exclude(
                version=version
            ).delete()
            SeriesSnapshot.objects.bulk_create(
                [
                    SeriesSnapshot(
                        community=community,
                        period_key=period.key,
                        version=version,
                        computed_at=now,
                        payload=_snapshot_bytes(data),
                    )
                ],
                update_conflicts=True,
                unique_fields=["community", "period_key", "version"],
                update_fields=["computed_at", "payload"],
            )
    cache.set(key, data, CACHE_SECONDS)
    return data


def default_period(*, community: Community, now: dt.datetime, version: int | None = None) -> Period:
    """Return the month of the community's newest reading, or the current month."""
    if version is None:
        version = readings_version(community.pk)
    key = f"dashboards:latest:{community.pk}:v{version}"
    latest = cache.get(key)
    if latest is None:
        point_ids = list(
            ConnectionPoint.objects.filter(configuration__community=community).values_list(
                "pk", flat=True
            )
        )
        newest = readings.latest_reading_at(point_ids) if point_ids else None
        latest = newest or now
        cache.set(key, latest, CACHE_SECONDS)
    return periods.month_of(min(latest, now))


def expected_hours(period: Period, *, now: dt.datetime) -> int:
    """Return the hours of the period that have already ended at `now` (DST included)."""
    start, end = period.utc_bounds()
    if now <= start:
        return 0
    stop = min(end, now)
    return int((stop - start).total_seconds()) // HOUR_S


@dataclass(frozen=True)
class Completeness:
    expected_hours: int  # per point
    points: int
    present_hours: int  # over all points
    pct: float | None
    by_point: list[tuple[int, int, float | None]]  # (point id, present, pct), worst first


def completeness(data: CommunityPeriodData, *, now: dt.datetime) -> Completeness:
    """Return hours present over hours expected, overall and per point."""
    expected = expected_hours(data.period, now=now)
    by_point = []
    for point_id in data.point_ids:
        # Hours after `now` cannot be expected; a reading there still counts once.
        present = min(data.present_hours_by_point.get(point_id, 0), expected)
        by_point.append((point_id, present, series.ratio_pct(present, expected)))
    by_point.sort(key=lambda item: (item[2] if item[2] is not None else 0.0, item[0]))
    total_present = sum(present for _, present, _ in by_point)
    return Completeness(
        expected_hours=expected,
        points=len(by_point),
        present_hours=total_present,
        pct=series.ratio_pct(total_present, expected * len(by_point)),
        by_point=by_point,
    )


@dataclass(frozen=True)
class Totals:
    """Energy of the readings over the period [Wh] and its ratios; money is money.py's."""

    injected_wh: int
    withdrawn_wh: int
    shared_wh: int
    self_sufficiency_pct: float | None  # shared / withdrawn
    self_consumption_pct: float | None  # shared / injected


def totals(data: CommunityPeriodData) -> Totals:
    """Return the period's energy totals of the readings and their ratios."""
    injected = int(data.injected_wh.sum())
    withdrawn = int(data.withdrawn_wh.sum())
    shared = int(data.shared_wh.sum())
    return Totals(
        injected_wh=injected,
        withdrawn_wh=withdrawn,
        shared_wh=shared,
        self_sufficiency_pct=series.ratio_pct(shared, withdrawn),
        self_consumption_pct=series.ratio_pct(shared, injected),
    )


@dataclass(frozen=True)
class Bucketed:
    """Series summed per local day (a month) or month (a year) [Wh]."""

    label_starts_s: np.ndarray  # UTC start of each bucket [unix s]
    injected_wh: np.ndarray
    withdrawn_wh: np.ndarray
    shared_wh: np.ndarray


def bucketed(data: CommunityPeriodData, *, by: str) -> Bucketed:
    """Sum the hourly series per Europe/Rome day or month."""
    starts = data.period.hour_offsets(by=by)
    return Bucketed(
        label_starts_s=data.hour_starts_s[starts],
        injected_wh=series.sum_by_buckets(data.injected_wh, starts),
        withdrawn_wh=series.sum_by_buckets(data.withdrawn_wh, starts),
        shared_wh=series.sum_by_buckets(data.shared_wh, starts),
    )
