"""Counter values in quarantine, released or discarded by a person, and meter replacements.

The counter rules (cer.metering.counter_rules) keep a doubtful value out of the chain with
its reason. The community's referente decides: released, the value joins the chain and
its energy is booked (the next value then continues from it); discarded, it never counts.
A meter replacement adds the new meter's start reading, from which the chain restarts
without booking the reading itself. Each is audited and written through write_hourly.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.metering import counter_rules, counters, recording
from cer.metering.counter_rules import ChainSample
from cer.metering.models import CounterChannel, CounterSample, CounterState, Device


class NotInQuarantine(Exception):
    """The value was released or discarded already, or was never in quarantine."""


class ReplacementRefused(Exception):
    """The replacement cannot be recorded; `field` names the form field, `message` why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def resolve_sample(*, sample: CounterSample, release: bool, actor: Any, now: dt.datetime) -> None:
    """Release (book) or discard a value in quarantine, audited.

    Raises NotInQuarantine when another person resolved it first.
    """
    with transaction.atomic():
        counters.lock_devices({sample.device_id})
        current = CounterSample.objects.select_related("device__connection_point").get(pk=sample.pk)
        if current.state != CounterState.QUARANTINED:
            raise NotInQuarantine(current.pk)
        state = counter_rules.RELEASED if release else counter_rules.DISCARDED
        device = current.device
        hourly: counters.Hourly = defaultdict(lambda: [0, 0])
        counters.merge(
            _register(device, current.channel),
            hourly,
            changed={current.measured_at: state},
            resolved_by=actor,
            resolved_at=now,
        )
        recording.book_device_hours(hourly, now=now)
        current.refresh_from_db()
        record(
            actor=actor,
            code="metering.counter.released" if release else "metering.counter.discarded",
            now=now,
            target=device,
            community=device.connection_point.configuration.community,
            changes={
                "channel": current.channel,
                "measured_at": current.measured_at.isoformat(),
                "value_wh": current.value_wh,
                "reason": current.reason,
                "booked_wh": current.delta_wh,
            },
        )


def record_replacement(
    *,
    device: Device,
    replaced_at: dt.datetime,
    withdrawn_start_wh: int | None,
    injected_start_wh: int | None,
    actor: Any,
    now: dt.datetime,
) -> None:
    """Record that the device's meter was replaced at `replaced_at` (aware), audited.

    Each register's chain restarts from the new meter's start reading [Wh]; the reading
    itself books nothing, and values after it are judged again from it (a value the old
    chain had in quarantine may now fit). Raises ReplacementRefused.
    """
    if withdrawn_start_wh is None and injected_start_wh is None:
        raise ReplacementRefused("withdrawn_start_wh", _("Give at least one start reading."))
    if replaced_at > now:
        raise ReplacementRefused("replaced_at", _("The replacement cannot be in the future."))
    if replaced_at < device.created_at - dt.timedelta(days=1):
        raise ReplacementRefused(
            "replaced_at", _("The replacement cannot precede the device's registration.")
        )
    starts = [
        (channel, value)
        for channel, value in (
            (CounterChannel.WITHDRAWN.value, withdrawn_start_wh),
            (CounterChannel.INJECTED.value, injected_start_wh),
        )
        if value is not None
    ]
    with transaction.atomic():
        counters.lock_devices({device.pk})
        taken = CounterSample.objects.filter(
            device=device, measured_at=replaced_at, channel__in=[c for c, _ in starts]
        )
        if taken.exists():
            raise ReplacementRefused(
                "replaced_at",
                _("The device sent a value at this very instant; choose another time."),
            )
        hourly: counters.Hourly = defaultdict(lambda: [0, 0])
        for channel, value in starts:
            start = ChainSample(replaced_at, value, state=counter_rules.START)
            counters.merge(
                _register(device, channel), hourly, new=[start], received_at=lambda _s: now
            )
        recording.book_device_hours(hourly, now=now)
        record(
            actor=actor,
            code="metering.meter.replaced",
            now=now,
            target=device,
            community=device.connection_point.configuration.community,
            changes={
                "replaced_at": replaced_at.isoformat(),
                "withdrawn_start_wh": withdrawn_start_wh,
                "injected_start_wh": injected_start_wh,
            },
        )


def _register(device: Device, channel: str) -> counters.Register:
    point = device.connection_point
    limits = recording.power_limits([point])[point.pk]
    power_w = limits.injection_w if channel == CounterChannel.INJECTED else limits.withdrawal_w
    return counters.Register(device.pk, channel, point.pk, power_w, device.counter_rollover_wh)
