"""Assemble the demo community: roster plus a year of meter readings and prices.

For every connection point the consumption behind the meter is generated from
its load profile, the production of the plants behind it is added, and the
two are netted hour by hour (with the battery where there is one) into what
the grid meter records: ``injected_wh`` and ``withdrawn_wh``. The zonal price
series is synthetic and flagged as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

import numpy as np

from cer.demo import profiles
from cer.demo.roster import (
    LOAD_ASSOCIATION,
    LOAD_AUXILIARY,
    LOAD_BAKERY,
    LOAD_HOUSEHOLD,
    LOAD_METALWORK,
    LOAD_PARISH,
    LOAD_SCHOOL,
    DemoRoster,
    MemberSpec,
    PlantSpec,
    build_roster,
)

STEP_SECONDS = 3600


@dataclass(frozen=True)
class DemoCommunity:
    """The demo roster with one year of hourly data; arrays are read-only.

    ``hour_starts_utc`` (``datetime64[s]``, UTC) keys every array: element
    ``i`` is the bucket ``[start_at + i·step, start_at + (i+1)·step)``.
    ``injected_wh`` / ``withdrawn_wh`` map a POD to its grid-meter readings
    [Wh]; ``consumption_wh`` maps a POD to its consumption behind the meter
    [Wh]; ``production_wh`` maps a plant key to its gross production [Wh];
    ``price_cent_per_mwh`` is the synthetic NORD zonal price [cent/MWh],
    exact integers. ``prices_are_synthetic`` is always True: these are not
    market results and must never be shown as such.
    """

    roster: DemoRoster
    year: int
    start_at: datetime
    step_seconds: int
    hour_starts_utc: np.ndarray
    injected_wh: Mapping[str, np.ndarray]
    withdrawn_wh: Mapping[str, np.ndarray]
    consumption_wh: Mapping[str, np.ndarray]
    production_wh: Mapping[str, np.ndarray]
    market_zone: str
    price_cent_per_mwh: np.ndarray
    prices_are_synthetic: bool = True

    @property
    def bucket_count(self) -> int:
        """Return the number of hourly buckets in the year."""
        return int(self.hour_starts_utc.size)

    def total_injected_wh(self) -> np.ndarray:
        """Return the community's hourly injection summed over all PODs [Wh]."""
        return np.vstack(list(self.injected_wh.values())).sum(axis=0, dtype=np.int64)

    def total_withdrawn_wh(self) -> np.ndarray:
        """Return the community's hourly withdrawal summed over all PODs [Wh]."""
        return np.vstack(list(self.withdrawn_wh.values())).sum(axis=0, dtype=np.int64)


def _consumption_wh(member: MemberSpec, *, year: int, seed: list[int]) -> np.ndarray:
    """Return the consumption behind a member's meter from its load spec [Wh]."""
    point = member.connection_point
    load = point.load
    annual_kwh = load.annual_kwh
    power_kw = point.contracted_power_kw
    schedules = {
        LOAD_BAKERY: profiles.BAKERY,
        LOAD_METALWORK: profiles.METALWORK,
        LOAD_ASSOCIATION: profiles.ASSOCIATION_SEAT,
    }
    if load.profile == LOAD_HOUSEHOLD:
        return profiles.household_withdrawal_wh(
            year=year,
            annual_kwh=annual_kwh,
            seed=seed,
            has_air_conditioning=load.has_air_conditioning,
            away_in_august=load.away_in_august,
            contracted_power_kw=power_kw,
        )
    if load.profile in schedules:
        return profiles.sme_withdrawal_wh(
            year=year,
            annual_kwh=annual_kwh,
            schedule=schedules[load.profile],
            seed=seed,
            contracted_power_kw=power_kw,
        )
    if load.profile == LOAD_SCHOOL:
        return profiles.public_building_withdrawal_wh(
            year=year, annual_kwh=annual_kwh, seed=seed, contracted_power_kw=power_kw
        )
    if load.profile == LOAD_PARISH:
        return profiles.parish_withdrawal_wh(
            year=year, annual_kwh=annual_kwh, seed=seed, contracted_power_kw=power_kw
        )
    if load.profile == LOAD_AUXILIARY:
        return profiles.auxiliary_withdrawal_wh(year=year, annual_kwh=annual_kwh, seed=seed)
    raise ValueError(f"unknown load profile {load.profile!r}")


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def build_demo(seed: int = 2025) -> DemoCommunity:
    """Return the demo community with a full year of hourly readings for ``seed``.

    Deterministic: the same seed gives identical arrays on every run, with no
    dependence on the current date. Each member's series uses its own seed
    stream ``[seed, 1, member number]``, the shared weather ``[seed, 0]`` and
    the prices ``[seed, 2]``, so adding a member leaves the others unchanged.
    """
    roster = build_roster(seed)
    year = roster.year
    calendar = profiles.local_calendar(year)
    weather = profiles.simulate_weather(year=year, seed=[seed, 0])

    production_wh: dict[str, np.ndarray] = {}
    production_by_pod: dict[str, np.ndarray] = {}
    plants_by_pod: dict[str, list[PlantSpec]] = {}
    for plant in roster.plants:
        series = profiles.pv_production_wh(
            power_kw=plant.power_kw,
            weather=weather,
            tilt_deg=plant.tilt_deg,
            azimuth_deg=plant.azimuth_deg,
            entry_into_service_date=plant.entry_into_service_date,
        )
        production_wh[plant.key] = _frozen(series)
        previous = production_by_pod.get(plant.pod)
        production_by_pod[plant.pod] = series if previous is None else previous + series
        plants_by_pod.setdefault(plant.pod, []).append(plant)

    injected_wh: dict[str, np.ndarray] = {}
    withdrawn_wh: dict[str, np.ndarray] = {}
    consumption_wh: dict[str, np.ndarray] = {}
    for number, member in enumerate(roster.members):
        pod = member.connection_point.pod
        consumption = _consumption_wh(member, year=year, seed=[seed, 1, number])
        production = production_by_pod.get(pod)
        if production is None:
            injected = np.zeros(calendar.size, dtype=np.int64)
            withdrawn = consumption.copy()
        else:
            plants = plants_by_pod[pod]
            injected, withdrawn = profiles.split_at_meter(
                year=year,
                production_wh=production,
                consumption_wh=consumption,
                storage_power_kw=sum(p.storage_power_kw for p in plants),
                storage_capacity_kwh=sum(p.storage_capacity_kwh for p in plants),
            )
        consumption_wh[pod] = _frozen(consumption)
        injected_wh[pod] = _frozen(injected)
        withdrawn_wh[pod] = _frozen(withdrawn)

    prices = profiles.synthetic_zonal_price_cent_per_mwh(weather=weather, seed=[seed, 2])
    return DemoCommunity(
        roster=roster,
        year=year,
        start_at=calendar.start_at,
        step_seconds=STEP_SECONDS,
        hour_starts_utc=calendar.hour_starts_utc,
        injected_wh=MappingProxyType(injected_wh),
        withdrawn_wh=MappingProxyType(withdrawn_wh),
        consumption_wh=MappingProxyType(consumption_wh),
        production_wh=MappingProxyType(production_wh),
        market_zone=roster.configuration.market_zone,
        price_cent_per_mwh=_frozen(prices),
    )
