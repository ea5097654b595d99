"""Device energy counters: each device's chain of samples, and the energy between them.

A counter reports a running total; the energy of an interval is the difference between two
consecutive samples, booked over the hours the interval covers. Samples may arrive late or
out of order: the chain is merged so that the hourly totals always equal the sum over it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cer.metering import counter_rules, ingest
from cer.metering.counter_rules import ChainSample
from cer.metering.models import CounterChannel, CounterSample, Device

if TYPE_CHECKING:
    from cer.metering.batches import AcceptedMessage, IngestOutcome

Hourly = dict[tuple[int, dt.datetime], list[int]]  # (point, hour) -> [injected, withdrawn]

# Stored values read after the newest incoming one, at first; the window grows while
# the verdicts after it still change. Two more are read as the values that follow.
_AFTER = 8
_LOOKAHEAD = 2
_FIELDS = (
    "pk",
    "measured_at",
    "value_wh",
    "delta_wh",
    "booked_from",
    "state",
    "reason",
    "stamped_on_arrival",
    "epoch",
)


@dataclass(frozen=True)
class Register:
    """One counter register of a device, and what judging its values needs."""

    device_id: int
    channel: str
    point_id: int
    power_w: int
    rollover_wh: int | None

    @property
    def column(self) -> int:
        return 0 if self.channel == CounterChannel.INJECTED else 1


@dataclass
class _Stored:
    """A stored value as it was before this merge, to take back what it booked."""

    pk: int
    state: str
    delta_wh: int
    booked_from: dt.datetime | None
    reason: str


@dataclass
class MergeResult:
    """What a merge did: values new, duplicates, and values newly put in quarantine."""

    new: int = 0
    duplicates: int = 0
    quarantined: int = 0


def record_counters(
    accepted: list[AcceptedMessage], hourly: Hourly, outcome: IngestOutcome
) -> None:
    """Merge counter values into each device's chains and book the energy that changed.

    Every value of a chain carries the energy of its span; a value arriving late, or one
    that changes which of its neighbours are glitches, re-evaluates the chain around it:
    what changed is taken back from its hours and booked again, so the hourly totals
    always equal the sum over the chain, whatever order the values arrived in.
    """
    groups: dict[Register, dict[dt.datetime, ChainSample]] = defaultdict(dict)
    received: dict[tuple[int, str, dt.datetime], dt.datetime] = {}
    for item in accepted:
        if item.device_id is None:
            continue
        stamped = item.parsed.stamped_on_arrival
        for reading in item.parsed.counters:
            registers: tuple[tuple[str, int | None, int], ...] = (
                (CounterChannel.INJECTED.value, reading.injected_total_wh, item.limits.injection_w),
                (
                    CounterChannel.WITHDRAWN.value,
                    reading.withdrawn_total_wh,
                    item.limits.withdrawal_w,
                ),
            )
            for channel, value, power_w in registers:
                if value is None:
                    continue
                register = Register(
                    item.device_id, channel, item.point_id, power_w, item.rollover_wh
                )
                samples = groups[register]
                moment = reading.measured_at
                if stamped:
                    # Two different messages stamped in the same microsecond are two values.
                    while moment in samples:
                        moment += dt.timedelta(microseconds=1)
                elif moment in samples:
                    outcome.duplicate_readings += 1
                    continue
                samples[moment] = ChainSample(
                    moment,
                    value,
                    stamped_on_arrival=stamped,
                    epoch=reading.epoch or "",
                )
                received[(item.device_id, channel, moment)] = item.received_at
    if not groups:
        return
    lock_devices({register.device_id for register in groups})
    for register, incoming in groups.items():

        def arrival(sample: ChainSample, register: Register = register) -> dt.datetime:
            return received[(register.device_id, register.channel, sample.measured_at)]

        result = merge(register, hourly, new=list(incoming.values()), received_at=arrival)
        outcome.new_readings += result.new
        outcome.duplicate_readings += result.duplicates
        outcome.quarantined += result.quarantined


def lock_devices(device_ids: set[int]) -> None:
    """Lock the devices' rows: one merge at a time reads and rewrites a device's chains.

    FOR NO KEY UPDATE: it excludes other merges (and updates of the device) but lets other
    transactions insert rows that refer to the device, which a FOR UPDATE would block and,
    between two workers, could deadlock.
    """
    list(
        Device.objects.select_for_update(no_key=True)
        .filter(pk__among=sorted(device_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def merge(
    register: Register,
    hourly: Hourly,
    *,
    new: Sequence[ChainSample] = (),
    changed: dict[dt.datetime, str] | None = None,
    received_at: Callable[[ChainSample], dt.datetime] | None = None,
    resolved_by: Any = None,
    resolved_at: dt.datetime | None = None,
) -> MergeResult:
    """Add `new` values to a register's chain, or set stored values' states (`changed`).

    The chain is judged again (cer.metering.counter_rules.settle) from two values before
    the first one concerned until the verdicts stop changing; the difference is booked
    into `hourly` and the rows are written. `received_at` gives a new value's arrival.
    Call with the device locked (lock_devices).
    """
    changed = changed or {}
    moments = [sample.measured_at for sample in new] + list(changed)
    result = MergeResult()
    if not moments:
        return result
    first, last = min(moments), max(moments)
    after = _AFTER
    while True:
        previous, stored, more = _window(register, first, last, after)
        known = {sample.measured_at for sample, _ in stored}
        fresh = [sample for sample in new if sample.measured_at not in known]
        originals = {id(sample): original for sample, original in stored}
        for sample, _ in stored:
            if sample.measured_at in changed:
                sample.state = changed[sample.measured_at]
        chain = sorted([sample for sample, _ in stored] + fresh, key=lambda s: s.measured_at)
        evaluated = len(chain) - _LOOKAHEAD if more else len(chain)
        before_tail = _last_in_chain(chain[:evaluated], originals, previous)
        after_tail = counter_rules.settle(
            chain,
            previous=previous,
            evaluated=evaluated,
            power_w=register.power_w,
            rollover_wh=register.rollover_wh,
        )
        if not more or _same_link(before_tail, after_tail):
            break
        after *= 4
    result.new = len(fresh)
    result.duplicates = len(new) - len(fresh)
    creations: list[CounterSample] = []
    updates: list[tuple[int, dict[str, Any]]] = []
    for sample in chain[:evaluated]:
        original = originals.get(id(sample))
        if original is None:
            _book(hourly, register, sample, sign=1)
            result.quarantined += sample.state == counter_rules.QUARANTINED
            assert received_at is not None
            creations.append(
                CounterSample(
                    device_id=register.device_id,
                    channel=register.channel,
                    measured_at=sample.measured_at,
                    value_wh=sample.value_wh,
                    delta_wh=sample.delta_wh,
                    booked_from=sample.booked_from,
                    state=sample.state,
                    reason=sample.reason,
                    stamped_on_arrival=sample.stamped_on_arrival,
                    epoch=sample.epoch,
                    received_at=received_at(sample),
                )
            )
            continue
        now_booked = (sample.delta_wh, sample.booked_from)
        if (sample.state, sample.reason) == (original.state, original.reason) and now_booked == (
            original.delta_wh,
            original.booked_from,
        ):
            continue
        if now_booked != (original.delta_wh, original.booked_from):
            spread_back(
                hourly, register, original.booked_from, sample.measured_at, original.delta_wh
            )
            _book(hourly, register, sample, sign=1)
        if sample.state == counter_rules.QUARANTINED and original.state != sample.state:
            result.quarantined += 1
        values: dict[str, Any] = {
            "state": sample.state,
            "delta_wh": sample.delta_wh,
            "booked_from": sample.booked_from,
            "reason": sample.reason,
        }
        if sample.measured_at in changed:
            values |= {"resolved_at": resolved_at, "resolved_by": resolved_by}
        updates.append((original.pk, values))
    CounterSample.objects.bulk_create(creations, batch_size=1000)
    # Few stored values change per merge (a late value's neighbours, a glitch's).
    for pk, values in updates:
        CounterSample.objects.filter(pk=pk).update(**values)
    return result


def _last_in_chain(
    chain: list[ChainSample], originals: dict[int, _Stored], previous: ChainSample | None
) -> tuple[dt.datetime, dt.datetime | None] | None:
    """The chain's last link among `chain` as stored before the merge: (instant, span start)."""
    for sample in reversed(chain):
        original = originals.get(id(sample))
        if original is not None and original.state in counter_rules.IN_CHAIN:
            return sample.measured_at, original.booked_from
    if previous is None:
        return None
    return previous.measured_at, previous.booked_from


def _same_link(
    before: tuple[dt.datetime, dt.datetime | None] | None, after: ChainSample | None
) -> bool:
    """Whether the chain ends on the same link, booked the same way, as before the merge."""
    if before is None or after is None:
        return before is None and after is None
    return before == (after.measured_at, after.booked_from)


def _window(
    register: Register, first: dt.datetime, last: dt.datetime, after: int
) -> tuple[ChainSample | None, list[tuple[ChainSample, _Stored]], bool]:
    """Read the stored values a merge about [first, last] may change.

    Returns the chain's link before them (None: they start the chain), the values from
    two before `first` to `after` past `last` (with the lookahead ones), and whether
    there are stored values beyond them.
    """
    samples = CounterSample.objects.filter(device_id=register.device_id, channel=register.channel)
    live = samples.exclude(state=counter_rules.DISCARDED)
    # Two values before: the verdict of a value depends on the two that follow it.
    before = list(
        live.filter(measured_at__lt=first).order_by("-measured_at").values_list(*_FIELDS)[:2]
    )
    start = before[-1][1] if before else first
    link = (
        samples.filter(measured_at__lt=start, state__in=counter_rules.IN_CHAIN)
        .order_by("-measured_at")
        .values_list(*_FIELDS)[:1]
    )
    previous = _sample(link[0])[0] if link else None
    # Without a link before, every earlier value is out of the chain: judge them all again.
    lower = samples
    if previous is not None:
        lower = samples.filter(measured_at__gt=previous.measured_at)
    inside = lower.filter(measured_at__lte=last).order_by("measured_at").values_list(*_FIELDS)
    later = list(
        samples.filter(measured_at__gt=last)
        .order_by("measured_at")
        .values_list(*_FIELDS)[: after + _LOOKAHEAD + 1]
    )
    more = len(later) > after + _LOOKAHEAD
    rows = [*inside, *later[: after + _LOOKAHEAD]]
    return previous, [_sample(row) for row in rows], more


def _sample(row: tuple[Any, ...]) -> tuple[ChainSample, _Stored]:
    pk, measured_at, value_wh, delta_wh, booked_from, state, reason, stamped, epoch = row
    sample = ChainSample(
        measured_at,
        value_wh,
        state=state,
        delta_wh=delta_wh,
        booked_from=booked_from,
        reason=reason,
        stamped_on_arrival=stamped,
        epoch=epoch,
    )
    return sample, _Stored(pk, state, delta_wh, booked_from, reason)


def _book(hourly: Hourly, register: Register, sample: ChainSample, *, sign: int) -> None:
    if sample.delta_wh and sample.booked_from is not None:
        spread(
            hourly,
            register.point_id,
            sample.booked_from,
            sample.measured_at,
            sample.delta_wh,
            register.column,
            sign=sign,
        )


def spread_back(
    hourly: Hourly,
    register: Register,
    start_at: dt.datetime | None,
    end_at: dt.datetime,
    energy_wh: int,
) -> None:
    """Take back energy [Wh] booked over [start_at, end_at) (nothing when none was booked)."""
    if energy_wh and start_at is not None:
        spread(hourly, register.point_id, start_at, end_at, energy_wh, register.column, sign=-1)


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
