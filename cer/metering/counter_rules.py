"""Which counter values form a device's chain, and the energy each one books.

Pure functions: no Django, no database, no clock. A counter chain is the time-ordered
list of one register's values; the energy of a value is its advance over the previous
value in the chain, booked over a span that ends at the value's instant. The rules, in
the order they are tried (docs/metering.md, *Counters*):

- a value that grows books its advance, if the point's power [W] × 1.1 × elapsed time
  allows it; a value stamped on arrival (Shelly status) that follows another stamped on
  arrival may book over the span of the value before it, since a backlog released by
  the broker arrives microseconds apart although it was measured minutes apart;
- a value lower than before wraps at the device's rollover, or is a reset when the
  device says so (a new counter epoch, e.g. Tasmota's `TotalStartTime`) or when the value
  is plausibly small (no more than the power could produce since the previous value);
- anything else is a glitch, kept in quarantine with its reason, and the chain goes on
  from the last good value; a value that fits the previous one but not the next, when
  the next fits the previous, is the glitch too (a counter reading 0 for one sample);
- a meter's start reading (a replacement) restarts the chain and books nothing; a value
  released by a person is in the chain whatever the rules say; a discarded one is not.

The outcome depends only on the set of values, not on their arrival order: the stored
chain is re-evaluated around every new value (cer.metering.counters).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cer.metering.ingest import max_energy_wh

# Values of ChainSample.state; equal to the codes of metering.models.CounterState.
ACCEPTED = "OK"
QUARANTINED = "QUA"
RELEASED = "REL"
DISCARDED = "DIS"
START = "NEW"
# States a person chose: the rules never change them.
FIXED_STATES = frozenset({RELEASED, DISCARDED, START})
# States whose value is a link of the chain.
IN_CHAIN = frozenset({ACCEPTED, RELEASED, START})


@dataclass
class ChainSample:
    """One value of a register [Wh] at `measured_at` (UTC), and what the rules made of it.

    `booked_from` is the start of the span over which `delta_wh` is booked (the end is
    `measured_at`); `reason` says why a value is quarantined.
    """

    measured_at: dt.datetime
    value_wh: int
    state: str = ACCEPTED
    delta_wh: int = 0
    booked_from: dt.datetime | None = None
    reason: str = ""
    stamped_on_arrival: bool = False
    epoch: str = ""

    @property
    def fixed(self) -> bool:
        return self.state in FIXED_STATES


@dataclass(frozen=True)
class Verdict:
    """The energy [Wh] a value books over [booked_from, its instant), or why it cannot."""

    delta_wh: int
    booked_from: dt.datetime
    reason: str = ""
    reset: bool = False

    @property
    def fits(self) -> bool:
        return not self.reason


def judge(
    previous: ChainSample, sample: ChainSample, *, power_w: int, rollover_wh: int | None
) -> Verdict:
    """Return the energy `sample` books after `previous`, or the reason it is a glitch.

    The bound is power [W] × 1.1 × elapsed time + 1 Wh (ARERA TIT, limitatore at 110 %).
    """
    start = previous.measured_at
    seconds = (sample.measured_at - start).total_seconds()
    limit = max_energy_wh(power_w=power_w, seconds=seconds)
    value, before = sample.value_wh, previous.value_wh
    if sample.epoch and previous.epoch and sample.epoch != previous.epoch:
        # The device says its counter started again: what it shows was measured since.
        if value <= limit:
            return Verdict(value, start, reset=True)
        return Verdict(
            0,
            start,
            f"the device reports a new counter ({sample.epoch}) showing {value} Wh, more than "
            f"the {limit} Wh that {power_w} W allow in {seconds:g} s",
        )
    if value >= before:
        delta = value - before
        if delta <= limit:
            return Verdict(delta, start)
        anchor = previous.booked_from
        if sample.stamped_on_arrival and previous.stamped_on_arrival and anchor is not None:
            # A backlog of status messages: measured minutes apart, received together.
            span = (sample.measured_at - anchor).total_seconds()
            if delta <= max_energy_wh(power_w=power_w, seconds=span):
                return Verdict(delta, anchor)
        return Verdict(
            0,
            start,
            f"the counter jumped by {delta} Wh in {seconds:g} s, more than the {limit} Wh "
            f"that {power_w} W allow",
        )
    if rollover_wh and before < rollover_wh:
        wrapped = rollover_wh - before + value
        if wrapped <= limit:
            return Verdict(wrapped, start)
    if value <= limit:
        return Verdict(value, start, reset=True)
    return Verdict(
        0,
        start,
        f"the counter went back from {before} Wh to {value} Wh; not a reset, since {value} Wh "
        f"is more than the {limit} Wh that {power_w} W allow in {seconds:g} s",
    )


def settle(
    samples: list[ChainSample],
    *,
    previous: ChainSample | None,
    evaluated: int,
    power_w: int,
    rollover_wh: int | None,
) -> ChainSample | None:
    """Decide the state, energy and span of `samples[:evaluated]`, in time order.

    `previous` is the chain's last value before the samples (None: they start the
    chain); the samples after `evaluated` are only looked at, as the values that follow.
    Returns the chain's last value after the evaluated ones.
    """

    def fits(first: ChainSample, second: ChainSample) -> bool:
        return judge(first, second, power_w=power_w, rollover_wh=rollover_wh).fits

    live = [sample for sample in samples if sample.state != DISCARDED]
    position = {id(sample): index for index, sample in enumerate(live)}
    for sample in samples[:evaluated]:
        if sample.state == DISCARDED:
            continue
        index = position[id(sample)]
        following = live[index + 1 : index + 3]
        if sample.state == START:
            _book(sample, 0, sample.measured_at)
            previous = sample
            continue
        if previous is None:
            # The first value of a chain has nothing to be compared with but what follows.
            if (
                sample.state != RELEASED
                and len(following) == 2
                and not fits(_as_anchor(sample), following[0])
                and fits(_as_anchor(following[0]), following[1])
            ):
                _quarantine(sample, "the value does not fit the values that follow it")
                continue
            _book(sample, 0, sample.measured_at)
            previous = sample
            continue
        verdict = judge(previous, sample, power_w=power_w, rollover_wh=rollover_wh)
        if sample.state == RELEASED:
            _book(sample, verdict.delta_wh if verdict.fits else _forced(previous, sample), None)
            sample.booked_from = verdict.booked_from
            previous = sample
            continue
        if not verdict.fits:
            _quarantine(sample, verdict.reason)
            continue
        following_value = following[0] if following else None
        if (
            following_value is not None
            and following_value.state != START
            and fits(previous, following_value)
            and not fits(_with_span(sample, verdict), following_value)
        ):
            _quarantine(
                sample,
                f"the value {sample.value_wh} Wh does not fit the next one "
                f"({following_value.value_wh} Wh), which continues from "
                f"{previous.value_wh} Wh",
            )
            continue
        _book(sample, verdict.delta_wh, verdict.booked_from)
        previous = sample
    return previous


def _as_anchor(sample: ChainSample) -> ChainSample:
    """The sample as the start of a chain: nothing booked before it."""
    return ChainSample(
        sample.measured_at,
        sample.value_wh,
        booked_from=sample.measured_at,
        stamped_on_arrival=sample.stamped_on_arrival,
        epoch=sample.epoch,
    )


def _with_span(sample: ChainSample, verdict: Verdict) -> ChainSample:
    return ChainSample(
        sample.measured_at,
        sample.value_wh,
        booked_from=verdict.booked_from,
        stamped_on_arrival=sample.stamped_on_arrival,
        epoch=sample.epoch,
    )


def _forced(previous: ChainSample, sample: ChainSample) -> int:
    # A person released the value: its advance counts, or the value itself after a drop.
    if sample.value_wh >= previous.value_wh:
        return sample.value_wh - previous.value_wh
    return sample.value_wh


def _book(sample: ChainSample, delta_wh: int, booked_from: dt.datetime | None) -> None:
    if sample.state not in FIXED_STATES:
        sample.state = ACCEPTED
    sample.delta_wh = delta_wh
    sample.booked_from = booked_from
    sample.reason = ""


def _quarantine(sample: ChainSample, reason: str) -> None:
    sample.state = QUARANTINED
    sample.delta_wh = 0
    sample.booked_from = None
    sample.reason = reason
