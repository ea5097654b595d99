"""The community's power now: injection and withdrawal per connection point, from the devices.

Metering owns the readings, so the live view (cer.dashboards.live) reads them through here.
A point's power on a channel is the average over the newest span its device measured:

- a counter sample books `delta_wh` over [booked_from, measured_at): the advance over the
  previous sample of the chain, rollovers and resets already judged by the counter rules
  (cer.metering.counter_rules), so the energy of the last two accepted samples divided by
  the time between them is `delta_wh / (measured_at - booked_from)`;
- an interval of the platform's JSON gives `energy / (end_at - start_at)`;

whichever ends later. Either counts only when it ended within the window before `now` and
spans no more than the window: an average over hours is not the power of this minute.
A point stopped reporting when nothing ended within the window, or when it has no active
device. The shared power is shown for information only and never used for money.

The whole community is read with one query per table (devices with their points, counter
samples, intervals): the newest sample of each device channel and the newest interval of
each point are found by correlated subqueries that walk the unique indexes backwards.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Subquery

from cer.members.models import PersonKind
from cer.metering.models import (
    CounterChannel,
    CounterSample,
    CounterState,
    Device,
    DeviceStatus,
    IntervalEnergy,
)

WINDOW = dt.timedelta(minutes=15)

# Values of a device's chain (cer.metering.counter_rules.IN_CHAIN): quarantined and
# discarded values are no measurement.
_IN_CHAIN = (CounterState.ACCEPTED, CounterState.RELEASED, CounterState.START)
_MICROSECONDS_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class PointPower:
    """One connection point's power now [W]; None where nothing recent was measured.

    `last_sample_at` is the end of the newest measurement of any channel, however old;
    `stopped` says the point reported nothing within the window or has no active device.
    """

    point_id: int
    pod: str
    holder: str
    configuration_id: int
    injected_w: int | None
    withdrawn_w: int | None
    last_sample_at: dt.datetime | None
    stopped: bool
    device_disabled: bool


@dataclass(frozen=True)
class CommunityPower:
    """The community's power at `at` [W]: its points, and the totals of those reporting.

    `shared_w` is the instantaneous analogue of the hourly shared energy (REGULATION.md
    §2 and §3.1: per configuration, the minimum of injection and withdrawal), summed over
    the configurations; it is shown for information only, never used for money.
    """

    at: dt.datetime
    window: dt.timedelta
    points: tuple[PointPower, ...]
    injected_w: int
    withdrawn_w: int
    shared_w: int
    last_sample_at: dt.datetime | None

    @property
    def stopped_count(self) -> int:
        return sum(1 for point in self.points if point.stopped)


@dataclass(frozen=True)
class _Measure:
    """Energy [Wh] over [start, end), the newest of a channel."""

    start: dt.datetime | None
    end: dt.datetime
    energy_wh: int


def average_power_w(energy_wh: int, span: dt.timedelta) -> int:
    """Return the mean power [W] of `energy_wh` [Wh] spread over `span`, rounded half up.

    Integer arithmetic on microseconds: P = E × 3600 s/h ÷ Δt, exact before the rounding.
    """
    microseconds = span // dt.timedelta(microseconds=1)
    if microseconds <= 0:
        raise ValueError("a power needs a span longer than zero")
    numerator = energy_wh * _MICROSECONDS_PER_HOUR
    return (2 * numerator + microseconds) // (2 * microseconds)


def _newest(channel: str) -> Subquery:
    """The pk of the newest chain value of the device's `channel` (unique index, backwards)."""
    samples = CounterSample.objects.filter(
        device=OuterRef("pk"), channel=channel, state__in=_IN_CHAIN
    )
    return Subquery(samples.order_by("-measured_at").values("pk")[:1])


def _power(measure: _Measure | None, *, now: dt.datetime, window: dt.timedelta) -> int | None:
    """The power of a measurement that ended within the window and spans at most it."""
    if measure is None or measure.start is None or measure.end < now - window:
        return None
    span = measure.end - measure.start
    if span <= dt.timedelta(0) or span > window:
        return None
    return average_power_w(measure.energy_wh, span)


def _newer(a: _Measure | None, b: _Measure | None) -> _Measure | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a.end >= b.end else b


def community_power(
    community_id: int, now: dt.datetime, window: dt.timedelta = WINDOW
) -> CommunityPower:
    """Return the power [W] of each connection point of the community with a device, and totals.

    Points are those holding a device that was not deleted. Totals add the points still
    reporting; the shared power is, per configuration, min(injection, withdrawal), summed
    (REGULATION.md §3.1, its instantaneous analogue; for information, never for money).
    """
    devices = list(
        Device.objects.filter(connection_point__configuration__community_id=community_id)
        .exclude(status=DeviceStatus.DELETED)
        .annotate(
            injected_pk=_newest(CounterChannel.INJECTED),
            withdrawn_pk=_newest(CounterChannel.WITHDRAWN),
            interval_pk=Subquery(
                IntervalEnergy.objects.filter(connection_point=OuterRef("connection_point"))
                .order_by("-start_at")
                .values("pk")[:1]
            ),
        )
        .values(
            "pk",
            "status",
            "connection_point_id",
            "connection_point__pod",
            "connection_point__configuration_id",
            "connection_point__holder__kind",
            "connection_point__holder__first_name",
            "connection_point__holder__last_name",
            "connection_point__holder__company_name",
            "injected_pk",
            "withdrawn_pk",
            "interval_pk",
        )
    )
    sample_pks = [row[key] for row in devices for key in ("injected_pk", "withdrawn_pk")]
    samples = {
        pk: (channel, _Measure(booked_from, measured_at, delta_wh))
        for pk, channel, booked_from, measured_at, delta_wh in CounterSample.objects.filter(
            pk__in=[pk for pk in sample_pks if pk is not None]
        ).values_list("pk", "channel", "booked_from", "measured_at", "delta_wh")
    }
    interval_rows = IntervalEnergy.objects.filter(
        pk__in={row["interval_pk"] for row in devices} - {None}
    ).values_list("connection_point_id", "start_at", "end_at", "injected_wh", "withdrawn_wh")
    intervals = {
        point_id: (_Measure(start, end, injected_wh), _Measure(start, end, withdrawn_wh))
        for point_id, start, end, injected_wh, withdrawn_wh in interval_rows
    }

    by_point: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for row in devices:
        by_point[row["connection_point_id"]].append(row)
    points = [
        _point_power(rows, samples, intervals.get(point_id), now=now, window=window)
        for point_id, rows in by_point.items()
    ]
    points.sort(key=lambda point: point.pod)
    return _totals(points, now=now, window=window)


def _point_power(
    rows: list[Mapping[str, Any]],
    samples: dict[int, tuple[str, _Measure]],
    interval: tuple[_Measure, _Measure] | None,
    *,
    now: dt.datetime,
    window: dt.timedelta,
) -> PointPower:
    """One point: per channel the newest measurement of its devices and of its intervals."""
    newest: dict[str, _Measure | None] = {
        CounterChannel.INJECTED: interval[0] if interval else None,
        CounterChannel.WITHDRAWN: interval[1] if interval else None,
    }
    for row in rows:
        for key in ("injected_pk", "withdrawn_pk"):
            if row[key] in samples:
                channel, measure = samples[row[key]]
                newest[channel] = _newer(newest[channel], measure)
    ends = [measure.end for measure in newest.values() if measure is not None]
    last = max(ends) if ends else None
    disabled = not any(row["status"] == DeviceStatus.ACTIVE for row in rows)
    stopped = disabled or last is None or last < now - window
    first = rows[0]
    return PointPower(
        point_id=first["connection_point_id"],
        pod=first["connection_point__pod"],
        holder=_holder_name(first),
        configuration_id=first["connection_point__configuration_id"],
        injected_w=None
        if stopped
        else _power(newest[CounterChannel.INJECTED], now=now, window=window),
        withdrawn_w=None
        if stopped
        else _power(newest[CounterChannel.WITHDRAWN], now=now, window=window),
        last_sample_at=last,
        stopped=stopped,
        device_disabled=disabled,
    )


def _holder_name(row: Mapping[str, Any]) -> str:
    # The same rule as Member.display_name, read from the joined columns.
    if row["connection_point__holder__kind"] == PersonKind.LEGAL:
        return str(row["connection_point__holder__company_name"])
    first = row["connection_point__holder__first_name"]
    last = row["connection_point__holder__last_name"]
    return f"{first} {last}".strip()


def _totals(points: list[PointPower], *, now: dt.datetime, window: dt.timedelta) -> CommunityPower:
    injected: dict[int, int] = defaultdict(int)
    withdrawn: dict[int, int] = defaultdict(int)
    for point in points:
        injected[point.configuration_id] += point.injected_w or 0
        withdrawn[point.configuration_id] += point.withdrawn_w or 0
    configurations = set(injected) | set(withdrawn)
    ends = [point.last_sample_at for point in points if point.last_sample_at is not None]
    return CommunityPower(
        at=now,
        window=window,
        points=tuple(points),
        injected_w=sum(injected.values()),
        withdrawn_w=sum(withdrawn.values()),
        # REGULATION.md §3.1: E_AC,h = min(E_imm,h ; E_prel,h) per configuration; here the
        # same minimum of the powers now, for information only.
        shared_w=sum(min(injected[k], withdrawn[k]) for k in configurations),
        last_sample_at=max(ends) if ends else None,
    )
