"""Device energy counters: each device's chain of samples, and the energy between them.

A counter reports a running total; the energy of an interval is the difference between two
consecutive samples, booked over the hours the interval covers. Samples may arrive late or
out of order: the chain is merged so that the hourly totals always equal the sum over it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cer.metering import ingest
from cer.metering.models import CounterChannel, CounterSample, Device

if TYPE_CHECKING:
    from cer.metering.batches import AcceptedMessage, IngestOutcome

Hourly = dict[tuple[int, dt.datetime], list[int]]  # (point, hour) -> [injected, withdrawn]


@dataclass
class _Sample:
    measured_at: dt.datetime
    value_wh: int
    delta_wh: int
    pk: int | None = None
    received_at: dt.datetime | None = None


def record_counters(
    accepted: list[AcceptedMessage], hourly: Hourly, outcome: IngestOutcome
) -> None:
    """Merge counter values into each device's sample chain and book the changed deltas.

    Every pair of consecutive samples carries the energy of its interval on the later
    sample. A late sample splits one pair into two: the old pair's energy is taken
    back from its hours and the two new ones are booked, so the hourly totals always
    equal the sum over the chain, whatever order the samples arrived in.
    """
    groups: dict[tuple[int, str], dict[dt.datetime, tuple[int, dt.datetime]]]
    groups = defaultdict(dict)
    context: dict[int, AcceptedMessage] = {}
    for item in accepted:
        if item.device_id is None:
            continue
        for reading in item.parsed.counters:
            registers: tuple[tuple[str, int | None], ...] = (
                (CounterChannel.INJECTED.value, reading.injected_total_wh),
                (CounterChannel.WITHDRAWN.value, reading.withdrawn_total_wh),
            )
            for channel, value in registers:
                if value is None:
                    continue
                samples = groups[(item.device_id, channel)]
                if reading.measured_at in samples:
                    outcome.duplicate_readings += 1
                    continue
                samples[reading.measured_at] = (value, item.received_at)
                context[item.device_id] = item
    if not groups:
        return
    # One worker at a time per device: concurrent merges would read the same chain.
    list(
        Device.objects.select_for_update()
        .filter(pk__in=sorted({device_id for device_id, _ in groups}))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    creations: list[CounterSample] = []
    updates: list[CounterSample] = []
    for (device_id, channel), incoming in groups.items():
        item = context[device_id]
        assert item.device_id is not None
        power_w = (
            item.limits.injection_w
            if channel == CounterChannel.INJECTED
            else item.limits.withdrawal_w
        )
        column = 0 if channel == CounterChannel.INJECTED else 1
        chain = _chain_window(device_id, channel, min(incoming), max(incoming))
        known = {sample.measured_at for sample in chain}
        new = [
            _Sample(moment, value, 0, received_at=received_at)
            for moment, (value, received_at) in incoming.items()
            if moment not in known
        ]
        outcome.duplicate_readings += len(incoming) - len(new)
        outcome.new_readings += len(new)
        if not new:
            continue
        old_previous = {id(chain[i]): chain[i - 1] for i in range(1, len(chain))}
        merged = sorted(chain + new, key=lambda sample: sample.measured_at)
        for index, sample in enumerate(merged):
            previous = merged[index - 1] if index else None
            if sample.pk is not None:
                before = old_previous.get(id(sample))
                if before is previous:
                    continue
                if before is not None and sample.delta_wh:
                    spread(
                        hourly,
                        item.point_id,
                        before.measured_at,
                        sample.measured_at,
                        sample.delta_wh,
                        column,
                        sign=-1,
                    )
            delta = 0
            if previous is not None:
                delta = ingest.counter_delta_wh(
                    previous_wh=previous.value_wh,
                    value_wh=sample.value_wh,
                    seconds=(sample.measured_at - previous.measured_at).total_seconds(),
                    power_w=power_w,
                    rollover_wh=item.rollover_wh,
                )
                spread(
                    hourly, item.point_id, previous.measured_at, sample.measured_at, delta, column
                )
            sample.delta_wh = delta
            if sample.pk is None:
                creations.append(
                    CounterSample(
                        device_id=device_id,
                        channel=channel,
                        measured_at=sample.measured_at,
                        value_wh=sample.value_wh,
                        delta_wh=delta,
                        received_at=sample.received_at or item.received_at,
                    )
                )
            else:
                updates.append(CounterSample(pk=sample.pk, delta_wh=delta))
    CounterSample.objects.bulk_create(creations, batch_size=1000)
    if updates:
        CounterSample.objects.bulk_update(updates, ["delta_wh"], batch_size=1000)


def _chain_window(
    device_id: int, channel: str, first: dt.datetime, last: dt.datetime
) -> list[_Sample]:
    """Return the stored samples in [first, last] plus their neighbours just outside."""
    samples = CounterSample.objects.filter(device_id=device_id, channel=channel)
    fields = ("pk", "measured_at", "value_wh", "delta_wh")
    before = samples.filter(measured_at__lt=first).order_by("-measured_at").values_list(*fields)[:1]
    inside = (
        samples.filter(measured_at__gte=first, measured_at__lte=last)
        .order_by("measured_at")
        .values_list(*fields)
    )
    after = samples.filter(measured_at__gt=last).order_by("measured_at").values_list(*fields)[:1]
    rows = [*before, *inside, *after]
    return [_Sample(measured_at=m, value_wh=v, delta_wh=d, pk=pk) for pk, m, v, d in rows]


def spread(
    hourly: Hourly,
    point_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    energy_wh: int,
    column: int,
    *,
    sign: int = 1,
) -> None:
    """Book energy [Wh] (sign +1) or take it back (sign -1) over the hours it covers.

    Taking back splits the same positive amount, so exactly the parts booked before
    are removed.
    """
    if not energy_wh:
        return
    for hour_start, part in ingest.split_over_hours(start_at, end_at, energy_wh):
        hourly[(point_id, hour_start)][column] += sign * part
