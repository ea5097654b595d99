"""Rule 4: a photovoltaic plant that produced far less than the day allowed.

Expected energy of a plant on a day [Wh] = Σ over the day's hours of the clear-sky
irradiance on the plant's panes [W/m²] (pvlib: Ineichen clear sky for the site, the
sun's position at mid-hour, the transposition to the plant's tilt and azimuth) ÷ 1000
[W/m² at standard test conditions] × nominal power [kW] × PERFORMANCE_RATIO × 1000.

The weather is learned from the community's other plants: each plant's ratio measured
injection ÷ expected is compared with the median ratio of the others that day. A plant
rings when its ratio < median × tolerance (default 0.5), provided the median says the day
was not dark (median ≥ DARK_MEDIAN) — on an overcast day every plant is low.

Measured injection is the point's: a plant behind a point that also consumes shows
injection net of self-consumption, which a low tolerance absorbs. Several PV plants on
one point share its injection in proportion to their expected energy, so they ring
together. Clear sky is computed once per distinct site (and orientation) and day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd

from cer.alerts.daily import daily_sums
from cer.alerts.findings import Finding, Scope
from cer.alerts.models import AlertRule
from cer.alerts.sites import site_of
from cer.notifications import links
from cer.plants.models import EnergySource, Plant

# The usual share of the panes' irradiation a plant delivers (inverter, temperature, wiring).
PERFORMANCE_RATIO = 0.80
# Below this median ratio the day was too dark to judge any plant.
DARK_MEDIAN = 0.2


def clear_sky_kwh_per_kwp(
    *,
    latitude: float,
    longitude: float,
    tilt: float,
    azimuth: float,
    day_start: dt.datetime,
    hours: int,
) -> float:
    """Return the clear-sky irradiation on the panes [kWh/m²] = [kWh per kWp at STC] of a day.

    `day_start` is the day's first UTC hour; each hour is sampled at its middle.
    """
    from pvlib import irradiance, location  # heavy import, only for this rule

    site = location.Location(latitude, longitude, tz="UTC")
    times = pd.date_range(day_start, periods=hours, freq="h") + pd.Timedelta(minutes=30)
    sky = site.get_clearsky(times, model="ineichen")
    sun = site.get_solarposition(times)
    panes = irradiance.get_total_irradiance(
        tilt, azimuth, sun["apparent_zenith"], sun["azimuth"], sky["dni"], sky["ghi"], sky["dhi"]
    )
    return float(np.nansum(panes["poa_global"].to_numpy())) / 1000


def low_production(scope: Scope) -> list[Finding]:
    """Rule 4 over yesterday: PV plants far below their clear-sky expectation and their peers."""
    communities = scope.communities_with(AlertRule.LOW_PRODUCTION)
    if not communities:
        return []
    day = scope.yesterday
    start, _end = day.utc_bounds()
    plants = list(
        Plant.objects.filter(
            source=EnergySource.PV,
            entry_into_service_date__lt=day.start,
            connection_point__configuration__community_id__in=communities,
        ).values(
            "pk",
            "name",
            "power_kw",
            "latitude",
            "longitude",
            "tilt_deg",
            "azimuth_deg",
            "region",
            "connection_point",
            "connection_point__configuration__region",
            "connection_point__configuration__community_id",
        )
    )
    if len(plants) < 2:
        return []
    sums = daily_sums(scope)
    injected = dict(zip(sums.points.tolist(), sums.injected_wh.tolist(), strict=True))
    sites: dict[tuple[float, float, float, float], float] = {}
    expected_wh = np.zeros(len(plants))
    for i, plant in enumerate(plants):
        site = site_of(
            latitude=plant["latitude"],
            longitude=plant["longitude"],
            tilt_deg=plant["tilt_deg"],
            azimuth_deg=plant["azimuth_deg"],
            region=plant["region"] or plant["connection_point__configuration__region"],
        )
        if site not in sites:
            sites[site] = clear_sky_kwh_per_kwp(
                latitude=site[0],
                longitude=site[1],
                tilt=site[2],
                azimuth=site[3],
                day_start=start,
                hours=day.hours,
            )
        expected_wh[i] = sites[site] * float(plant["power_kw"]) * PERFORMANCE_RATIO * 1000
    point_of = np.array([p["connection_point"] for p in plants])
    measured_wh = np.zeros(len(plants))
    for point in np.unique(point_of):
        on_point = point_of == point
        total = expected_wh[on_point].sum()
        if total > 0:
            measured_wh[on_point] = injected.get(int(point), 0) * expected_wh[on_point] / total
    ratio = np.divide(measured_wh, expected_wh, out=np.zeros(len(plants)), where=expected_wh > 0)
    community = np.array([p["connection_point__configuration__community_id"] for p in plants])
    has_readings = np.array([int(p["connection_point"]) in injected for p in plants])
    findings = []
    for pk in np.unique(community):
        members = np.flatnonzero((community == pk) & has_readings & (expected_wh > 0))
        tolerance = float(scope.settings[int(pk)].production_tolerance)
        for i in members.tolist():
            others = members[members != i]
            if len(others) == 0:
                continue
            median = float(np.median(ratio[others]))
            if median < DARK_MEDIAN or ratio[i] >= median * tolerance:
                continue
            plant = plants[i]
            findings.append(
                Finding(
                    community_id=int(pk),
                    rule=AlertRule.LOW_PRODUCTION,
                    object_kind="plant",
                    object_id=plant["pk"],
                    label=plant["name"],
                    figures={
                        "plant": plant["name"],
                        "day": day.start.isoformat(),
                        "measured_wh": int(np.rint(measured_wh[i])),
                        "expected_wh": int(np.rint(expected_wh[i])),
                        "ratio": str(Decimal(str(round(ratio[i], 4)))),
                        "median": str(Decimal(str(round(median, 4)))),
                        "tolerance": str(scope.settings[int(pk)].production_tolerance),
                    },
                    link=links.site_path("plants:edit", plant["pk"]),
                )
            )
    return findings
