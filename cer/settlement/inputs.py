"""Load what a settlement needs from the database into the engine's arrays.

Readings come from cer.metering.series in one SQL query per run (never per-row ORM objects)
as NumPy arrays points x hours. Where several sources exist for a point and hour the first in
the community's order wins (by default grid operator, then device, manual entry, estimate).
A point counts only while its holder is a member of the community: its readings outside the
membership are left out. Prices are hourly; where only quarter-hours exist the hourly price
is the mean of the four (REGULATION.md §3.5 working reading [U]). Nothing missing is
invented: gaps are returned, listed per point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cer.communities.models import Configuration
from cer.incentives.models import ZonalPrice
from cer.incentives.parameters import parameters_with_overrides
from cer.members.models import MemberCategory, Membership, display_name_of
from cer.metering import precedence, series
from cer.plants.models import ConnectionPoint, IncentiveRegime, Plant
from cercalc import buckets
from cercalc import settle as engine
from cercalc.distribution import active_hours_mask
from cercalc.params import Parameters
from cercalc.periods import year as year_period
from cercalc.prices import hourly_price_units

ENGINE_CATEGORY: dict[str, str] = {
    MemberCategory.HOUSEHOLD: "household",
    MemberCategory.SME: "enterprise",
    MemberCategory.LARGE_ENTERPRISE: "enterprise",
    MemberCategory.PUBLIC_BODY: "public_body",
    MemberCategory.RELIGIOUS_BODY: "religious_body",
    MemberCategory.THIRD_SECTOR: "third_sector",
    MemberCategory.RESEARCH_BODY: "research_body",
}


@dataclass(frozen=True)
class PointRow:
    """What a settlement reads of a connection point: a row, not a model instance.

    A month reads a thousand points and their holders; plain rows spare a model instance
    per point (a third of a month's load time).
    """

    pk: int
    pod: str
    holder_id: int
    holder_category: str
    voltage_level: str


@dataclass(frozen=True)
class MembershipRow:
    """A membership as the settlement reads it: the member's dates, kind, name and category."""

    member_id: int
    kind: str
    valid_from: dt.date
    valid_to: dt.date | None
    member_name: str
    member_category: str


@dataclass
class Inputs:
    """The engine's inputs for one configuration and period, and what they were made from."""

    configuration: Configuration
    hours: np.ndarray
    points: list[PointRow]
    point_members: list[int]
    injected_wh: np.ndarray
    withdrawn_wh: np.ndarray
    active: np.ndarray
    plants: list[Plant]
    plant_rows: list[int]
    engine_plants: list[engine.Plant]
    engine_consumers: list[engine.Consumer]
    plant_injected_wh: np.ndarray
    price_units: np.ndarray
    price_known: np.ndarray
    parameters: Parameters
    parameter_versions: dict[str, Any]
    membership_snapshot: list[dict[str, Any]]
    member_categories: dict[int, str]
    gaps: list[dict[str, Any]]
    unpriced_hours: list[str]
    warnings: list[str] = field(default_factory=list)
    source_order: precedence.SourceOrder = precedence.DEFAULT_ORDER
    # Hours whose winning reading is estimated or interpolated across a gap, per point
    # (same shape as `gaps`): like missing hours, they make the settlement provisional.
    not_measured: list[dict[str, Any]] = field(default_factory=list)

    @property
    def provisional(self) -> bool:
        """Readings missing, estimated or interpolated, or hours without a price."""
        return bool(self.gaps or self.not_measured or self.unpriced_hours)

    def readings_hash(self) -> str:
        digest = hashlib.sha256()
        for array in (self.hours, self.injected_wh, self.withdrawn_wh, self.active):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(",".join(p.pod for p in self.points).encode())
        if self.not_measured:
            # Only when some hour is not measured, so that the hashes of runs made before
            # the quality was read stay as they were.
            digest.update(json.dumps(self.not_measured, sort_keys=True).encode())
        return digest.hexdigest()

    def inputs_hash(self, readings_hash: str | None = None) -> str:
        """Hash everything the run depends on; `readings_hash` spares hashing the readings again."""
        digest = hashlib.sha256((readings_hash or self.readings_hash()).encode())
        digest.update(self.price_units.tobytes())
        digest.update(self.price_known.tobytes())
        facts = {
            "configuration": [self.configuration.community.kind, self.configuration.region],
            "plants": [repr(plant) for plant in self.engine_plants],
            "plant_rows": self.plant_rows,
            "consumers": [repr(consumer) for consumer in self.engine_consumers],
            "parameters": self.parameter_versions,
            "membership": self.membership_snapshot,
        }
        if self.source_order != precedence.DEFAULT_ORDER:
            # Only a chosen order enters the hash, so runs made before the choice existed
            # keep their hash; the readings hash already changes if the winners changed.
            facts["source_order"] = list(self.source_order)
        digest.update(json.dumps(facts, sort_keys=True, default=str).encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class YearReads:
    """What settling a year reads once for its twelve months (read_year).

    The configuration's points, their holders' memberships overlapping the year and the
    year's winning readings: each month takes its part, the same as reading it alone.
    """

    points: list[PointRow]
    memberships: list[MembershipRow]
    readings: series.ReadingsWindow

    def memberships_overlapping(self, first_day: dt.date, end_day: dt.date) -> list[MembershipRow]:
        """The memberships overlapping [first_day, end_day), in _memberships' order."""
        return [
            m
            for m in self.memberships
            if m.valid_from < end_day and (m.valid_to is None or m.valid_to > first_day)
        ]


def read_year(*, configuration: Configuration, year: int) -> YearReads:
    """Read once what each month of a Europe/Rome year needs of the database but prices."""
    whole_year = year_period(year)
    points = _points(configuration)
    return YearReads(
        points=points,
        memberships=_memberships(
            configuration.community_id,
            {p.holder_id for p in points},
            whole_year.start,
            whole_year.end,
        ),
        readings=read_year_readings(configuration=configuration, year=year),
    )


def load_inputs(
    *,
    configuration: Configuration,
    hours: np.ndarray,
    readings: series.ReadingsWindow | None = None,
    year: YearReads | None = None,
) -> Inputs:
    """Read points, memberships, readings, plants, prices and parameters for the hours.

    `readings`, when they cover the hours and points (series.readings_window), serve the
    readings instead of the database: the same winners, read once for a longer span.
    `year` (read_year) serves points, memberships and readings alike, read once a year.
    """
    if year is not None:
        readings = year.readings
    first_day = buckets.local_date_of(int(hours[0]))
    end_day = buckets.local_date_of(int(hours[-1])) + dt.timedelta(days=1)
    if year is not None:
        points = list(year.points)
        memberships = year.memberships_overlapping(first_day, end_day)
    else:
        points = _points(configuration)
        memberships = _memberships(
            configuration.community_id, {p.holder_id for p in points}, first_day, end_day
        )
    periods: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for membership in memberships:
        periods[membership.member_id].append((membership.valid_from, membership.valid_to))
    snapshot = [
        {
            "member_id": m.member_id,
            "name": m.member_name,
            "category": m.member_category,
            "kind": m.kind,
            "valid_from": m.valid_from.isoformat(),
            "valid_to": m.valid_to.isoformat() if m.valid_to else None,
        }
        for m in memberships
    ]
    warnings: list[str] = []
    outside = [p.pod for p in points if p.holder_id not in periods]
    if outside:
        warnings.append(
            f"{len(outside)} connection point(s) whose holder was not a member in the period "
            f"were left out: {', '.join(outside[:10])}"
        )
    points = [p for p in points if p.holder_id in periods]

    n_points, n_hours = len(points), hours.size
    source_order = series.order_of_community(configuration.community_id)
    point_ids, first_hour_s = [point.pk for point in points], int(hours[0])
    if readings is not None and readings.covers(
        point_ids=point_ids, first_hour_s=first_hour_s, hour_count=n_hours, order=source_order
    ):
        grid = readings.part(point_ids=point_ids, first_hour_s=first_hour_s, hour_count=n_hours)
    else:
        grid = series.winning_readings(
            point_ids=point_ids, first_hour_s=first_hour_s, hour_count=n_hours, order=source_order
        )
    injected, withdrawn, have = grid.injected_wh, grid.withdrawn_wh, grid.present
    active = np.zeros((n_points, n_hours), dtype=bool)
    # Members who joined on the same days share one mask (most of a community).
    masks: dict[tuple[tuple[dt.date, dt.date | None], ...], np.ndarray] = {}
    for row, point in enumerate(points):
        member_periods = tuple(periods[point.holder_id])
        if member_periods not in masks:
            masks[member_periods] = active_hours_mask(
                hour_start_utc_s=hours, periods=member_periods
            )
        active[row] = masks[member_periods]
    # A point counts only while its holder is a member (docs/settlement.md, Membership);
    # usually every holder is a member all month, and the readings stay as read.
    if not active.all():
        injected *= active
        withdrawn *= active
    gaps = _gaps(points, hours, active & ~have)
    not_measured = _gaps(points, hours, active & have & grid.not_measured)

    price_units, price_known, price_warnings = _prices(configuration.market_zone, hours)
    warnings += price_warnings
    unpriced = ~price_known & (injected.sum(axis=0) > 0) & (withdrawn.sum(axis=0) > 0)
    unpriced_hours = buckets.format_utc_many(hours[unpriced])
    if unpriced.any():
        # No price, no tariff: those hours are left out rather than priced by guess.
        injected[:, unpriced] = 0
        withdrawn[:, unpriced] = 0

    plants = list(
        Plant.objects.filter(connection_point_id__among=[point.pk for point in points]).order_by(
            "entry_into_service_date", "pk"
        )
    )
    row_of_point = {point.pk: row for row, point in enumerate(points)}
    plant_rows = [row_of_point[plant.connection_point_id] for plant in plants]
    plant_injected = np.zeros((len(plants), n_hours), dtype=np.int64)
    seen: set[int] = set()
    for index, row in enumerate(plant_rows):
        if row in seen:
            warnings.append(
                f"Point {points[row].pod} has several plants: its injection is attributed to "
                "the oldest one."
            )
            continue
        seen.add(row)
        plant_injected[index] = injected[row]
    engine_plants = [_engine_plant(plant, configuration) for plant in plants]
    consumers = [
        engine.Consumer(
            consumer_id=point.pod,
            category=ENGINE_CATEGORY[point.holder_category],
            voltage_level=point.voltage_level,
        )
        for point in points
    ]
    parameters, versions = parameters_with_overrides(first_day, end_day)
    return Inputs(
        configuration=configuration,
        hours=hours,
        points=points,
        point_members=[p.holder_id for p in points],
        injected_wh=injected,
        withdrawn_wh=withdrawn,
        active=active,
        plants=plants,
        plant_rows=plant_rows,
        engine_plants=engine_plants,
        engine_consumers=consumers,
        plant_injected_wh=plant_injected,
        price_units=price_units,
        price_known=price_known,
        parameters=parameters,
        parameter_versions=versions,
        membership_snapshot=snapshot,
        member_categories={m.member_id: m.member_category for m in memberships},
        gaps=gaps,
        unpriced_hours=unpriced_hours,
        warnings=warnings,
        source_order=source_order,
        not_measured=not_measured,
    )


def _points(configuration: Configuration) -> list[PointRow]:
    """The configuration's connection points, by POD, with their holder's category."""
    return [
        PointRow(*row)
        for row in ConnectionPoint.objects.filter(configuration=configuration)
        .order_by("pod")
        # Only what the settlement needs: the holder's other fields are encrypted at rest.
        .values_list("pk", "pod", "holder_id", "holder__category", "voltage_level")
    ]


def _memberships(
    community_id: int, member_ids: set[int], first_day: dt.date, end_day: dt.date
) -> list[MembershipRow]:
    """The members' memberships of the community overlapping [first_day, end_day)."""
    rows = (
        Membership.objects.filter(
            community_id=community_id, member_id__among=member_ids, valid_from__lt=end_day
        )
        .exclude(valid_to__lte=first_day)
        .order_by("member_id", "valid_from")
        .values_list(
            "member_id",
            "kind",
            "valid_from",
            "valid_to",
            "member__kind",
            "member__first_name",
            "member__last_name",
            "member__company_name",
            "member__category",
        )
    )
    return [
        MembershipRow(
            member_id=member_id,
            kind=kind,
            valid_from=valid_from,
            valid_to=valid_to,
            member_name=display_name_of(person_kind, first, last, company),
            member_category=category,
        )
        for member_id, kind, valid_from, valid_to, person_kind, first, last, company, category in (
            rows
        )
    ]


def read_year_readings(*, configuration: Configuration, year: int) -> series.ReadingsWindow:
    """Read a Europe/Rome year of winning readings of the configuration's points, once.

    The points are those whose holder was a member at some time in the year, a superset of
    every month's; load_inputs slices each month out of the result.
    """
    whole_year = year_period(year)
    first_day, end_day = whole_year.start, whole_year.end
    members = Membership.objects.filter(
        community_id=configuration.community_id, valid_from__lt=end_day
    ).exclude(valid_to__lte=first_day)
    point_ids = list(
        ConnectionPoint.objects.filter(
            configuration=configuration, holder_id__in=members.values("member_id")
        )
        .order_by("pod")
        .values_list("pk", flat=True)
    )
    hours = whole_year.hour_starts_s()
    return series.readings_window(
        point_ids=point_ids,
        first_hour_s=int(hours[0]),
        hour_count=int(hours.size),
        order=series.order_of_community(configuration.community_id),
    )


def _gaps(points: list[PointRow], hours: np.ndarray, missing: np.ndarray) -> list[dict]:
    """List, per point, the runs of hours marked in `missing` (n points x hours).

    Used for the hours without any reading while the holder was a member, and for those
    whose reading is estimated or interpolated.
    """
    gaps = []
    for row in np.flatnonzero(missing.any(axis=1)):
        indices = np.flatnonzero(missing[row])
        breaks = np.flatnonzero(np.diff(indices) != 1)
        starts = np.concatenate(([indices[0]], indices[breaks + 1]))
        ends = np.concatenate((indices[breaks], [indices[-1]]))
        gaps.append(
            {
                "pod": points[int(row)].pod,
                "count": int(indices.size),
                "ranges": [
                    [
                        buckets.format_utc(int(hours[s])),
                        buckets.format_utc(int(hours[e]) + buckets.HOUR_S),
                    ]
                    for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
                ],
            }
        )
    return gaps


def _prices(zone: str, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Return hourly zonal prices [1e-4 EUR/MWh] and where they are known.

    An hourly row wins; otherwise the mean of the hour's four quarter-hours, when all four
    exist (cercalc.prices, REGULATION.md §3.5 [U]). Prices finer than 1e-4 are rounded half up.
    """
    start = dt.datetime.fromtimestamp(int(hours[0]), tz=dt.UTC)
    end = dt.datetime.fromtimestamp(int(hours[-1]) + buckets.HOUR_S, tz=dt.UTC)
    rows = ZonalPrice.objects.filter(
        market_zone=zone, interval_start__gte=start, interval_start__lt=end
    ).values_list("interval_start", "interval_minutes", "price_eur_per_mwh")
    prices = hourly_price_units(
        hours,
        (
            (int(start_at.timestamp()), minutes, price)
            for start_at, minutes, price in rows.iterator(chunk_size=5000)
        ),
    )
    warnings = []
    if prices.rounded:
        warnings.append("Some zonal prices had more than four decimals and were rounded half up.")
    return prices.price_units, prices.known, warnings


def _engine_plant(plant: Plant, configuration: Configuration) -> engine.Plant:
    return engine.Plant(
        plant_id=str(plant.pk),
        source=plant.source,
        power_kw=plant.power_kw,
        entry_into_service_date=plant.entry_into_service_date,
        region=plant.region or configuration.region,
        existing=plant.is_existing,
        capital_grant_pct=plant.capital_grant_pct,
        superbonus_kw=plant.superbonus_kw,
        obligation_kw=plant.obligation_kw,
        regime=plant.regime or IncentiveRegime.DM414,
        storage_power_kw=plant.storage_power_kw,
        storage_capacity_kwh=plant.storage_capacity_kwh,
    )


def engine_configuration(configuration: Configuration) -> engine.Configuration:
    return engine.Configuration(
        type=configuration.community.kind,
        region=configuration.region,
        primary_substation=configuration.primary_substation,
    )
