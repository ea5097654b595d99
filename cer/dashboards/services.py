"""The dashboards' figures: series per community and period, cached, and their summaries.

Caching: the hourly sums of a community over a period (one query per configuration plus
one for completeness) are kept in Django's cache under a key holding the community's
readings version. Ingestion and imports call `bump_readings_version` after writing
readings, which makes every cached period of that community stale at once; the entries
also expire after `CACHE_SECONDS`, so data written without a bump appear within minutes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.core.cache import caches
from django.db import transaction
from django.db.models import F, Min
from django.utils.connection import ConnectionProxy

from cer.communities.models import Community
from cer.dashboards import queries, series
from cer.dashboards.models import ReadingsVersion, SeriesSnapshot
from cer.dashboards.periods import HOUR_S, Period, bucket_starts, month_of
from cer.plants.models import ConnectionPoint

# Each process's own memory: entries are versioned, and shared through snapshots.
cache = ConnectionProxy(caches, "local")

CACHE_SECONDS = 300
VERSION_SECONDS = 5
# Indicative rates of the estimate shown until the settlement engine produces statements:
# the flat CER tariff of DM 16/9/2020 and the 2024 TRAS_E (REGULATION.md §1, §6.2).
INDICATIVE_PREMIUM_EUR_PER_MWH = Decimal("110")
INDICATIVE_VALORISATION_EUR_PER_MWH = Decimal("10.57")


def readings_version(community_id: int) -> int:
    """Return the community's current readings version (0 before the first bump).

    Each process remembers it for `VERSION_SECONDS`, so a bump reaches every web worker
    within that time while a busy dashboard does not ask the database on every request.
    """
    key = f"dashboards:version:{community_id}"
    version = cache.get(key)
    if version is None:
        version = (
            ReadingsVersion.objects.filter(community_id=community_id)
            .values_list("version", flat=True)
            .first()
        ) or 0
        cache.set(key, version, VERSION_SECONDS)
    return version


def bump_readings_version(*, community_ids: Iterable[int], now: dt.datetime) -> None:
    """Mark the readings of these communities as changed: their cached series are dropped."""
    with transaction.atomic():
        for community_id in sorted(set(community_ids)):
            updated = ReadingsVersion.objects.filter(community_id=community_id).update(
                version=F("version") + 1, bumped_at=now
            )
            if not updated:
                ReadingsVersion.objects.get_or_create(
                    community_id=community_id, defaults={"version": 1, "bumped_at": now}
                )
            cache.delete(f"dashboards:version:{community_id}")


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


def _compute(community: Community, period: Period) -> CommunityPeriodData:
    hours = period.hour_count()
    injected = np.zeros(hours, dtype=np.int64)
    withdrawn = np.zeros(hours, dtype=np.int64)
    shared = np.zeros(hours, dtype=np.int64)
    all_points: list[int] = []
    by_configuration = {}
    several_sources = False
    for configuration_id, point_ids in _points_by_configuration(community).items():
        # Shared energy is a per-configuration (per primary substation) quantity.
        inj, wdr, mixed = queries.configuration_hourly_wh(point_ids=point_ids, period=period)
        shr = series.shared_energy_wh(injected_wh=inj, withdrawn_wh=wdr)
        injected += inj
        withdrawn += wdr
        shared += shr
        all_points += point_ids
        several_sources |= mixed
        by_configuration[configuration_id] = (tuple(point_ids), inj, wdr, shr)
    present = (
        queries.present_hours_by_point(
            point_ids=all_points, period=period, several_sources=several_sources
        )
        if all_points
        else {}
    )
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
    *, community: Community, period: Period, now: dt.datetime, version: int | None = None
) -> CommunityPeriodData:
    """Return the community's hourly sums for the period, computed once per version.

    Looked up in the process's cache, then in the snapshot table shared by all workers
    (fresh for `CACHE_SECONDS` after `now`), and only then summed by the database.
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
        data = _compute(community, period)
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
        newest = queries.latest_reading_at(point_ids) if point_ids else None
        latest = newest or now
        cache.set(key, latest, CACHE_SECONDS)
    return month_of(min(latest, now))


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
    injected_wh: int
    withdrawn_wh: int
    shared_wh: int
    self_sufficiency_pct: float | None  # shared / withdrawn
    self_consumption_pct: float | None  # shared / injected
    incentive_estimate_eur: Decimal
    premium_rate_eur_per_mwh: Decimal
    valorisation_eur_per_mwh: Decimal


def totals(data: CommunityPeriodData) -> Totals:
    """Return the period's totals, ratios and the indicative incentive estimate."""
    injected = int(data.injected_wh.sum())
    withdrawn = int(data.withdrawn_wh.sum())
    shared = int(data.shared_wh.sum())
    return Totals(
        injected_wh=injected,
        withdrawn_wh=withdrawn,
        shared_wh=shared,
        self_sufficiency_pct=series.ratio_pct(shared, withdrawn),
        self_consumption_pct=series.ratio_pct(shared, injected),
        incentive_estimate_eur=series.estimate_incentive_eur(
            shared_wh=shared,
            premium_rate_eur_per_mwh=INDICATIVE_PREMIUM_EUR_PER_MWH,
            valorisation_eur_per_mwh=INDICATIVE_VALORISATION_EUR_PER_MWH,
        ),
        premium_rate_eur_per_mwh=INDICATIVE_PREMIUM_EUR_PER_MWH,
        valorisation_eur_per_mwh=INDICATIVE_VALORISATION_EUR_PER_MWH,
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
    starts = bucket_starts(data.period, by=by)
    return Bucketed(
        label_starts_s=data.hour_starts_s[starts],
        injected_wh=series.sum_by_buckets(data.injected_wh, starts),
        withdrawn_wh=series.sum_by_buckets(data.withdrawn_wh, starts),
        shared_wh=series.sum_by_buckets(data.shared_wh, starts),
    )


@dataclass(frozen=True)
class MemberShare:
    """A member's part of the shared energy, hour by hour [Wh] (working readings)."""

    as_consumer_wh: np.ndarray  # proportional to the member's hourly withdrawal
    as_producer_wh: np.ndarray  # chronological attribution to the producing points


def member_share(
    *,
    data: CommunityPeriodData,
    own_points: list[ConnectionPoint],
    own_series: dict[int, queries.PointSeries],
) -> MemberShare:
    """Attribute the community's hourly shared energy to one member's points.

    Consumers: in proportion to their withdrawal in each hour; producers: to the injecting
    points in order of their plants' entry into service, each up to its own injection
    (REGULATION.md §3.2, §14). Both are the project's working readings, not GSE figures.
    """
    hours = data.hour_starts_s.size
    as_consumer = np.zeros(hours, dtype=np.int64)
    as_producer = np.zeros(hours, dtype=np.int64)
    own_ids = {point.pk for point in own_points}
    for configuration_id in sorted({point.configuration_id for point in own_points}):
        if configuration_id not in data.by_configuration:
            continue
        _, _, withdrawn, shared = data.by_configuration[configuration_id]
        mine = [p for p in own_points if p.configuration_id == configuration_id]
        own_withdrawn = sum(
            (own_series[p.pk].withdrawn_wh for p in mine), np.zeros(hours, dtype=np.int64)
        )
        as_consumer += series.share_by_withdrawal_wh(
            shared_wh=shared, total_withdrawn_wh=withdrawn, own_withdrawn_wh=own_withdrawn
        )
        if not any(p.has_injection for p in mine):
            continue
        producers = list(
            ConnectionPoint.objects.filter(configuration_id=configuration_id, has_injection=True)
            .annotate(first_entry=Min("plants__entry_into_service_date"))
            .order_by(F("first_entry").asc(nulls_last=True), "pk")
            .values_list("pk", flat=True)
        )
        injected = queries.point_series(point_ids=producers, period=data.period)
        attributed = series.attribute_chronologically_wh(
            shared_wh=shared,
            injected_wh_by_point=np.vstack([injected[pk].injected_wh for pk in producers]),
        )
        for row, point_id in enumerate(producers):
            if point_id in own_ids:
                as_producer += attributed[row]
    return MemberShare(as_consumer_wh=as_consumer, as_producer_wh=as_producer)
