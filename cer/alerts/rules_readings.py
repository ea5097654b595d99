"""Rules over readings and devices: silence, missing hours, quarantined counters, high use.

Each rule reads all the points (or devices) of the evaluated communities with one query
(rules 2 and 5 share one scan of the readings, cer.alerts.daily), then compares them at
once with NumPy; no query runs per point.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db.models import Count, Min, OuterRef, Q, Subquery

from cer.alerts.daily import daily_sums
from cer.alerts.findings import Finding, Scope
from cer.alerts.models import AlertRule
from cer.metering.models import (
    CounterChannel,
    CounterSample,
    CounterState,
    Device,
    DeviceStatus,
    IntervalEnergy,
)
from cer.notifications import links
from cercalc import periods

# Rule 5 needs at least this many of them with readings to know what is usual.
USUAL_WEEKS_NEEDED = 2


def _newest_received(channel: str) -> Subquery:
    samples = CounterSample.objects.filter(device=OuterRef("pk"), channel=channel)
    return Subquery(samples.order_by("-measured_at").values("received_at")[:1])


def silent_devices(scope: Scope) -> list[Finding]:
    """Rule 1: active devices with nothing received for more than the community's N hours.

    The last message is the arrival of the newest counter sample or interval (as in
    cer.metering.silence); a device never heard from counts from its creation.
    """
    communities = scope.communities_with(AlertRule.DEVICE_SILENT)
    if not communities:
        return []
    intervals = IntervalEnergy.objects.filter(
        connection_point=OuterRef("connection_point"), device=OuterRef("pk")
    )
    rows = list(
        Device.objects.filter(
            status=DeviceStatus.ACTIVE,
            connection_point__configuration__community_id__in=communities,
        )
        .annotate(
            withdrawn_at=_newest_received(CounterChannel.WITHDRAWN),
            injected_at=_newest_received(CounterChannel.INJECTED),
            interval_at=Subquery(intervals.order_by("-start_at").values("received_at")[:1]),
        )
        .values_list(
            "pk",
            "name",
            "created_at",
            "withdrawn_at",
            "injected_at",
            "interval_at",
            "connection_point__pod",
            "connection_point__configuration__community_id",
        )
    )
    if not rows:
        return []
    # Seconds since the epoch, -1 for "never": the newest of the three, else the creation.
    heard = np.array(
        [[_seconds(row[3]), _seconds(row[4]), _seconds(row[5])] for row in rows], dtype=np.int64
    )
    created = np.array([_seconds(row[2]) for row in rows], dtype=np.int64)
    newest = heard.max(axis=1)
    last = np.where(newest >= 0, newest, created)
    limit = np.array([scope.settings[row[7]].silence_hours * 3600 for row in rows], dtype=np.int64)
    silent = np.flatnonzero(int(scope.now.timestamp()) - last > limit)
    findings = []
    for i in silent:
        row = rows[i]
        findings.append(
            Finding(
                community_id=row[7],
                rule=AlertRule.DEVICE_SILENT,
                object_kind="device",
                object_id=row[0],
                label=f"{row[1]} ({row[6]})",
                figures={
                    "device": row[1],
                    "pod": row[6],
                    "since": dt.datetime.fromtimestamp(int(last[i]), tz=dt.UTC).isoformat(),
                    "heard": bool(newest[i] >= 0),
                    "hours": scope.settings[row[7]].silence_hours,
                },
                link=links.site_path("metering:device_detail", row[0]),
            )
        )
    return findings


def _seconds(moment: dt.datetime | None) -> int:
    return -1 if moment is None else int(moment.timestamp())


def _points_filter(communities: list[int]) -> Q:
    return Q(connection_point__configuration__community_id__in=communities)


def missing_hours(scope: Scope) -> list[Finding]:
    """Rule 2: a point that reports, with hours missing on one of the last whole days.

    A day is Europe/Rome's (23, 24 or 25 hours, periods.day). A point "reports" when it has
    a reading in the look-back window; a point with none there is silent, not gappy.
    """
    communities = scope.communities_with(AlertRule.READINGS_MISSING)
    if not communities:
        return []
    sums = daily_sums(scope)
    days = sums.missing_days
    expected = np.array([periods.day(day).hours for day in days], dtype=np.int64)
    missing = expected[np.newaxis, :] - sums.hours
    findings = []
    for i in np.flatnonzero(sums.of(communities) & (missing > 0).any(axis=1)):
        point = int(sums.points[i])
        findings.append(
            Finding(
                community_id=int(sums.community[i]),
                rule=AlertRule.READINGS_MISSING,
                object_kind="point",
                object_id=point,
                label=sums.pods[i],
                figures={
                    "pod": sums.pods[i],
                    "days": [
                        [days[d].isoformat(), int(missing[i, d]), int(expected[d])]
                        for d in np.flatnonzero(missing[i] > 0)
                    ],
                },
                link=links.site_path("dashboards:point", point),
            )
        )
    return findings


def quarantined_counters(scope: Scope) -> list[Finding]:
    """Rule 3: a device with counter values in quarantine waiting for a person's review.

    The metering app quarantines a counter that went backwards or jumped beyond what the
    point's power allows (cer.metering.counter_rules); the review is on the device's page.
    """
    communities = scope.communities_with(AlertRule.COUNTER_QUARANTINE)
    if not communities:
        return []
    rows = (
        CounterSample.objects.filter(
            state=CounterState.QUARANTINED,
            device__connection_point__configuration__community_id__in=communities,
        )
        .values(
            "device",
            "device__name",
            "device__connection_point__pod",
            "device__connection_point__configuration__community_id",
        )
        .annotate(samples=Count("pk"), oldest=Min("measured_at"))
        .order_by()
    )
    return [
        Finding(
            community_id=row["device__connection_point__configuration__community_id"],
            rule=AlertRule.COUNTER_QUARANTINE,
            object_kind="device",
            object_id=row["device"],
            label=f"{row['device__name']} ({row['device__connection_point__pod']})",
            figures={
                "device": row["device__name"],
                "pod": row["device__connection_point__pod"],
                "samples": row["samples"],
                "oldest": row["oldest"].isoformat(),
            },
            link=links.site_path("metering:device_detail", row["device"]),
        )
        for row in rows
    ]


def high_consumption(scope: Scope) -> list[Finding]:
    """Rule 5: yesterday's withdrawal far above the same weekday's median of 4 weeks before.

    Alert when withdrawn > factor × median and withdrawn >= the floor [kWh], so that tiny
    points do not ring; a point needs USUAL_WEEKS_NEEDED earlier weekdays with readings.
    """
    communities = scope.communities_with(AlertRule.HIGH_CONSUMPTION)
    if not communities:
        return []
    sums = daily_sums(scope)
    rows = np.flatnonzero(sums.of(communities))
    if len(rows) == 0:
        return []
    history = sums.withdrawn_wh[rows, :-1].astype(float)
    history[history < 0] = np.nan  # no reading that day, apart from a day of zero use
    enough = np.sum(~np.isnan(history), axis=1) >= USUAL_WEEKS_NEEDED
    usual = np.full(len(rows), np.nan)
    usual[enough] = np.nanmedian(history[enough], axis=1)
    day_wh = sums.withdrawn_wh[rows, -1]
    community = sums.community[rows]
    factor = np.array([float(scope.settings[int(c)].consumption_factor) for c in community])
    floor_wh = np.array(
        [float(scope.settings[int(c)].consumption_floor_kwh) * 1000 for c in community]
    )
    with np.errstate(invalid="ignore"):
        ringing = enough & (day_wh >= floor_wh) & (day_wh > factor * usual)
    findings = []
    for j in np.flatnonzero(ringing):
        i = rows[j]
        point = int(sums.points[i])
        findings.append(
            Finding(
                community_id=int(community[j]),
                rule=AlertRule.HIGH_CONSUMPTION,
                object_kind="point",
                object_id=point,
                label=sums.pods[i],
                figures={
                    "pod": sums.pods[i],
                    "day": sums.usual_days[-1].isoformat(),
                    "withdrawn_wh": int(day_wh[j]),
                    "usual_wh": int(np.rint(usual[j])),
                    "factor": str(scope.settings[int(community[j])].consumption_factor),
                },
                link=links.site_path("dashboards:point", point),
            )
        )
    return findings
