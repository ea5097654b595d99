"""From an MQTT topic and payload bytes to readings, or to a precise rejection reason.

Pure functions: no Django, no database, no clock (the arrival time is passed in).
The formats and the topic scheme are described in docs/metering.md:

- the platform's own JSON (interval energy or cumulative counters, in Wh);
- Shelly Gen2/Gen3: Pro 3EM `emdata:0` (total_act, total_act_ret), Pro EM
  `em1data:<n>` (total_act_energy, total_act_ret_energy) and the metering
  switches and power meters `switch:<n>` / `pm1:<n>` (aenergy.total,
  ret_aenergy.total), all in Wh, as status topics or as `NotifyStatus` /
  `NotifyFullStatus` notifications on `events/rpc`;
- Tasmota `tele/SENSOR` telemetry, with ENERGY (Total, TotalReturn or
  ExportActive, per phase or summed) or a named SML meter (Total_in, Total_out),
  all in kWh.

Every instant must lie between the device's registration day (or an age bound) and a
few minutes after the arrival, and one message may reach over a bounded number of
hours: a device whose clock is not set can neither create rows decades back nor make
the hourly split build millions of buckets.

Energy leaves this module as integer Wh; instants leave it as UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from cercalc.periods import ROME

# The payload formats; the values equal the codes of metering.models.DeviceKind.
OWN_JSON = "OWN_JSON"
SHELLY_EM = "SHELLY_EM"  # Shelly Gen2/Gen3 read from its RPC notifications (events/rpc)
SHELLY_STATUS = "SHELLY_STS"  # Shelly Gen2/Gen3 read from its generic status (status/...)
TASMOTA = "TASMOTA"

TOPIC_ROOT = "cer"
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_READINGS_PER_MESSAGE = 1000
MAX_INTERVAL = dt.timedelta(days=1)
# The longest span whose energy counts as measured in the hours it covers. Devices report
# every minute (Shelly, Tasmota TelePeriod 60) and at least hourly (TelePeriod <= 3600 s):
# energy across a longer span is a gap's, and its split over the hours is interpolated.
MAX_MEASURED_SPAN = dt.timedelta(hours=1)
# Device clocks drift; a reading further ahead of its arrival than this is refused.
MAX_CLOCK_AHEAD = dt.timedelta(minutes=10)
# Defaults of the settings METERING_MAX_SAMPLE_AGE_DAYS and METERING_MAX_HOURS_PER_MESSAGE.
DEFAULT_MAX_SAMPLE_AGE_DAYS = 400
DEFAULT_MAX_HOURS_PER_MESSAGE = 48
# A meter may exceed the contracted power by 10 % indefinitely (ARERA TIT, limitatore
# at 110 %); the extra watt-hour absorbs the rounding of counters to whole Wh.
POWER_TOLERANCE = Decimal("1.1")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# One decoder for every message (json.loads with options builds a new one per call);
# Decimal keeps counters such as 1234.567 kWh exact when scaled to Wh.
_JSON = json.JSONDecoder(parse_float=Decimal)
_ONE_US = dt.timedelta(microseconds=1)
_HOUR_US = dt.timedelta(hours=1) // _ONE_US

_TOPIC_PATTERN = re.compile(
    r"^cer/(?P<configuration>[1-9][0-9]{0,17})/(?P<pod>IT[0-9]{3}E[0-9]{8})"
    r"/(?P<device>[a-z0-9][a-z0-9_-]{0,39})/(?P<suffix>.+)$"
)
_OWN_INTERVAL_FIELDS = frozenset({"start", "end", "injected_wh", "withdrawn_wh", "correction"})
_OWN_COUNTER_FIELDS = frozenset({"at", "injected_total_wh", "withdrawn_total_wh"})
_OWN_TOP_FIELDS = frozenset({"v", "readings"})
_SHELLY_STATUS_METHODS = frozenset({"NotifyStatus", "NotifyFullStatus"})
# Shelly components that carry an energy counter; other components (sys, wifi, em:0
# with instantaneous power only, ...) carry none and are ignored.
_SHELLY_ENERGY_COMPONENTS = frozenset({"emdata", "em1data", "switch", "pm1"})
# The most keys a rejection lists when it cannot find an energy counter.
_KEYS_LISTED = 20
# SML scripts name their values freely; these are the names of the Tasmota docs' examples.
_SML_IMPORT_KEYS = ("Total_in", "E_in", "1_8_0")
_SML_EXPORT_KEYS = ("Total_out", "E_out", "2_8_0")
# Tasmota names returned energy TotalReturn on recent releases, ExportActive on older
# ones and on Modbus meters; the first present wins.
_TASMOTA_EXPORT_KEYS = ("TotalReturn", "ExportActive")
_TASMOTA_CHATTER = re.compile(
    r"^(tele/(STATE|LWT|INFO[0-9]|RESULT|MARGINS|UPTIME)|stat/.+|cmnd/.+)$"
)


class Rejection(Exception):
    """The message cannot be accepted: `field` names where, `reason` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class TopicAddress:
    """The parts of a device topic cer/<configuration_id>/<pod>/<device>/<suffix>."""

    configuration_id: int
    pod: str
    device_name: str
    suffix: str

    @property
    def prefix(self) -> str:
        return f"{TOPIC_ROOT}/{self.configuration_id}/{self.pod}/{self.device_name}"


@dataclass(frozen=True)
class IntervalReading:
    """Energy exchanged in [start_at, end_at) (UTC) [Wh].

    `correction`: the sender replaces the energy it sent before for the same span.
    """

    start_at: dt.datetime
    end_at: dt.datetime
    injected_wh: int
    withdrawn_wh: int
    correction: bool = False


@dataclass(frozen=True)
class CounterReading:
    """Cumulative counters at one instant (UTC) [Wh]; None where the device has no counter.

    `epoch` is what the device says about when its counters started (Tasmota's
    `TotalStartTime`): when it changes, a lower value is a reset the device declared.
    """

    measured_at: dt.datetime
    injected_total_wh: int | None
    withdrawn_total_wh: int | None
    epoch: str = ""


@dataclass(frozen=True)
class ParsedMessage:
    """What a message carries. `ignored` explains a message with nothing to meter."""

    intervals: tuple[IntervalReading, ...] = ()
    counters: tuple[CounterReading, ...] = ()
    stamped_on_arrival: bool = False
    ignored: str = ""


@dataclass(frozen=True)
class PowerLimits:
    """Largest power the point can inject and withdraw [W]."""

    injection_w: int
    withdrawal_w: int


@dataclass(frozen=True)
class TimeBounds:
    """How old a reading may be and how many UTC hours one message may reach over.

    `max_age` is counted back from the arrival; None lifts it (history uploaded on purpose).
    """

    max_age: dt.timedelta | None = dt.timedelta(days=DEFAULT_MAX_SAMPLE_AGE_DAYS)
    max_hours: int = DEFAULT_MAX_HOURS_PER_MESSAGE


@dataclass(frozen=True)
class _Window:
    """The instants a message may carry: from `earliest_at` to the arrival plus drift."""

    received_at: dt.datetime
    registered_at: dt.datetime | None
    max_age: dt.timedelta | None


def parse_topic(topic: str) -> TopicAddress:
    """Split a device topic into its parts.

    Raises Rejection when the topic does not follow cer/<configuration>/<pod>/<device>/...
    """
    match = _TOPIC_PATTERN.match(topic)
    if match is None:
        raise Rejection(
            "topic",
            f"topic {topic!r} does not match cer/<configuration id>/<POD>/<device>/<suffix>",
        )
    return TopicAddress(
        configuration_id=int(match["configuration"]),
        pod=match["pod"],
        device_name=match["device"],
        suffix=match["suffix"],
    )


def parse_payload(
    *,
    kind: str,
    suffix: str,
    payload: bytes,
    received_at: dt.datetime,
    meter_channel: int = 0,
    registered_at: dt.datetime | None = None,
    bounds: TimeBounds = TimeBounds(),
) -> ParsedMessage:
    """Turn the payload of a device's message into readings.

    `suffix` is the topic after the device's prefix, `received_at` the arrival
    instant (aware), used as the measurement time of payloads that carry none and
    to refuse readings from the future. Readings before the Europe/Rome day of
    `registered_at` (the device's registration), older than `bounds.max_age`, or
    reaching over more than `bounds.max_hours` hours are refused. Raises Rejection
    with the offending field.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejection("payload", f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    window = _Window(received_at, registered_at, bounds.max_age)
    if kind == OWN_JSON:
        parsed = _parse_own(suffix, payload, window)
    elif kind in (SHELLY_EM, SHELLY_STATUS):
        parsed = _parse_shelly(kind, suffix, payload, window, meter_channel)
    elif kind == TASMOTA:
        parsed = _parse_tasmota(suffix, payload, window)
    else:
        raise Rejection("kind", f"unknown payload format {kind!r}")
    check_span(parsed, max_hours=bounds.max_hours)
    return parsed


def parse_own_readings(
    document: Any,
    *,
    received_at: dt.datetime,
    registered_at: dt.datetime | None = None,
    bounds: TimeBounds = TimeBounds(),
) -> ParsedMessage:
    """Validate an already decoded JSON document of the platform's own format.

    Used by the HTTP endpoints, which decode the body themselves; the bounds are
    those of parse_payload. Raises Rejection.
    """
    parsed = _own_document(document, _Window(received_at, registered_at, bounds.max_age))
    check_span(parsed, max_hours=bounds.max_hours)
    return parsed


def check_span(message: ParsedMessage, *, max_hours: int) -> None:
    """Refuse a message whose readings reach over more than `max_hours` UTC hours.

    Counted from the hour of the earliest instant to the end of the hour of the
    latest, by arithmetic alone: a wrong clock is refused before any energy is split
    into hourly buckets. Raises Rejection naming the readings.
    """
    instants = [moment for r in message.intervals for moment in (r.start_at, r.end_at)]
    instants += [reading.measured_at for reading in message.counters]
    if not instants:
        return
    first_us = (min(instants) - _EPOCH) // _ONE_US
    last_us = (max(instants) - _EPOCH) // _ONE_US
    hours = max(1, -(-last_us // _HOUR_US) - first_us // _HOUR_US)
    if hours <= max_hours:
        return
    many = len(message.intervals) + len(message.counters) > 1
    field = "readings" if many else ("end" if message.intervals else "at")
    raise Rejection(
        field,
        f"the readings reach over {hours} hours, from {_iso(min(instants))} to "
        f"{_iso(max(instants))}; one message may cover at most {max_hours} hours",
    )


def _own_document(document: Any, window: _Window) -> ParsedMessage:
    if not isinstance(document, dict):
        raise Rejection("", "the payload must be a JSON object")
    if "readings" in document:
        unknown = sorted(set(document) - _OWN_TOP_FIELDS)
        if unknown:
            raise Rejection(unknown[0], "unknown field")
        items = document["readings"]
        if not isinstance(items, list) or not items:
            raise Rejection("readings", "must be a non-empty list")
        if len(items) > MAX_READINGS_PER_MESSAGE:
            raise Rejection("readings", f"more than {MAX_READINGS_PER_MESSAGE} readings")
        labelled = [(f"readings[{index}].", item) for index, item in enumerate(items)]
    else:
        labelled = [("", {key: value for key, value in document.items() if key != "v"})]
    intervals: list[IntervalReading] = []
    counters: list[CounterReading] = []
    for prefix, item in labelled:
        reading = _own_reading(prefix, item, window)
        if isinstance(reading, IntervalReading):
            intervals.append(reading)
        else:
            counters.append(reading)
    return ParsedMessage(intervals=tuple(intervals), counters=tuple(counters))


def check_plausible(message: ParsedMessage, *, limits: PowerLimits) -> None:
    """Refuse interval energy the point cannot physically exchange in the interval.

    The bound is power [W] × 1.1 × duration [h], plus 1 Wh. Counters are checked
    later, pair by pair, by cer.metering.counter_rules. Raises Rejection naming the reading.
    """
    many = len(message.intervals) > 1
    for index, reading in enumerate(message.intervals):
        seconds = (reading.end_at - reading.start_at).total_seconds()
        prefix = f"readings[{index}]." if many else ""
        for field, energy, power in (
            ("injected_wh", reading.injected_wh, limits.injection_w),
            ("withdrawn_wh", reading.withdrawn_wh, limits.withdrawal_w),
        ):
            bound = max_energy_wh(power_w=power, seconds=seconds)
            if energy > bound:
                raise Rejection(
                    prefix + field,
                    f"{energy} Wh in {seconds:g} s exceeds the {bound} Wh that {power} W "
                    "allow at this point",
                )


@functools.lru_cache(maxsize=1024)  # a batch repeats a few (power, duration) pairs
def max_energy_wh(*, power_w: int, seconds: float) -> int:
    """Return the most energy [Wh] a power [W] can deliver in `seconds`, with tolerance."""
    return math.ceil(Decimal(power_w) * POWER_TOLERANCE * Decimal(seconds) / 3600) + 1


def spans_a_gap(start_at: dt.datetime, end_at: dt.datetime) -> bool:
    """Tell whether energy over [start_at, end_at) crosses a gap (longer than MAX_MEASURED_SPAN)."""
    return end_at - start_at > MAX_MEASURED_SPAN


def hours_covered(start_at: dt.datetime, end_at: dt.datetime) -> list[dt.datetime]:
    """Return the start of every UTC hour that [start_at, end_at) overlaps."""
    start_us = (start_at - _EPOCH) // _ONE_US
    end_us = (end_at - _EPOCH) // _ONE_US
    first = start_us - start_us % _HOUR_US
    return [_EPOCH + dt.timedelta(microseconds=us) for us in range(first, end_us, _HOUR_US)]


def split_over_hours(
    start_at: dt.datetime,
    end_at: dt.datetime,
    energy_wh: int,
    *,
    step: dt.timedelta = dt.timedelta(hours=1),
) -> list[tuple[dt.datetime, int]]:
    """Spread energy [Wh] (>= 0) over the UTC buckets of `step` that [start_at, end_at) covers.

    Each bucket gets its exact share, energy × overlap / duration in integer
    microseconds, rounded down; the watt-hours this leaves go one each to the buckets
    with the largest remainders (the earlier bucket on a tie). The parts add up to
    `energy_wh`, no part is a whole Wh away from its exact share, so an overlap of a
    fraction of a second never takes a Wh from the hour where the energy was
    measured; the result depends only on the inputs.
    """
    start_us = (start_at - _EPOCH) // _ONE_US
    end_us = (end_at - _EPOCH) // _ONE_US
    step_us = step // _ONE_US
    first = start_us - start_us % step_us
    if end_us <= first + step_us:
        return [(_EPOCH + dt.timedelta(microseconds=first), energy_wh)]
    total_us = end_us - start_us
    buckets = range(first, end_us, step_us)
    shares = [energy_wh * (min(b + step_us, end_us) - max(b, start_us)) for b in buckets]
    parts = [share // total_us for share in shares]
    leftover = energy_wh - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(shares[i] % total_us), i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return [
        (_EPOCH + dt.timedelta(microseconds=bucket), part)
        for bucket, part in zip(buckets, parts, strict=True)
    ]


# --- the platform's own JSON -------------------------------------------------------------


def _parse_own(suffix: str, payload: bytes, window: _Window) -> ParsedMessage:
    if suffix == "status":
        return ParsedMessage(ignored="device status")
    if suffix != "readings":
        raise Rejection("topic", f"unexpected topic suffix {suffix!r}; readings go to .../readings")
    return _own_document(decode_json(payload), window)


def _own_reading(prefix: str, item: Any, window: _Window) -> IntervalReading | CounterReading:
    if not isinstance(item, dict):
        raise Rejection(prefix.rstrip("."), "each reading must be a JSON object")
    keys = set(item)
    if "at" in keys and ("start" in keys or "end" in keys):
        raise Rejection(prefix + "at", "a reading has either start and end, or at")
    if "at" in keys:
        unknown = sorted(keys - _OWN_COUNTER_FIELDS)
        if unknown:
            raise Rejection(prefix + unknown[0], "unknown field")
        measured_at = _instant(item["at"], prefix + "at", window)
        injected = _optional_wh(item, "injected_total_wh", prefix)
        withdrawn = _optional_wh(item, "withdrawn_total_wh", prefix)
        if injected is None and withdrawn is None:
            raise Rejection(
                prefix + "withdrawn_total_wh",
                "a counter reading needs injected_total_wh or withdrawn_total_wh",
            )
        return CounterReading(measured_at, injected, withdrawn)
    unknown = sorted(keys - _OWN_INTERVAL_FIELDS)
    if unknown:
        raise Rejection(prefix + unknown[0], "unknown field")
    for required in ("start", "end"):
        if required not in item:
            raise Rejection(prefix + required, "missing (an interval reading has start and end)")
    start_at = _instant(item["start"], prefix + "start", window)
    end_at = _instant(item["end"], prefix + "end", window)
    if end_at <= start_at:
        raise Rejection(prefix + "end", "must be after start")
    if end_at - start_at > MAX_INTERVAL:
        raise Rejection(prefix + "end", "an interval may last at most one day")
    injected = _optional_wh(item, "injected_wh", prefix)
    withdrawn = _optional_wh(item, "withdrawn_wh", prefix)
    if injected is None and withdrawn is None:
        raise Rejection(prefix + "withdrawn_wh", "an interval needs injected_wh or withdrawn_wh")
    correction = item.get("correction", False)
    if not isinstance(correction, bool):
        raise Rejection(prefix + "correction", f"must be true or false, got {correction!r}")
    return IntervalReading(start_at, end_at, injected or 0, withdrawn or 0, correction)


def _optional_wh(item: dict[str, Any], field: str, prefix: str) -> int | None:
    if field not in item:
        return None
    value = item[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejection(prefix + field, f"must be a whole number of Wh, got {value!r}")
    if value < 0:
        raise Rejection(prefix + field, f"must not be negative, got {value}")
    return value


# --- Shelly Gen2 -------------------------------------------------------------------------


def _parse_shelly(
    kind: str, suffix: str, payload: bytes, window: _Window, meter_channel: int
) -> ParsedMessage:
    if suffix == "online":
        return ParsedMessage(ignored="Shelly online flag")
    # One ingestion path per device: a Shelly publishes the same counters as RPC
    # notifications and as generic status, and counting both books an outage's energy
    # twice. The device's kind says which one counts; the other is ignored.
    if (kind == SHELLY_EM and suffix.startswith("status/")) or (
        kind == SHELLY_STATUS and suffix == "events/rpc"
    ):
        return ParsedMessage(ignored=f"Shelly {suffix}: ignored for this device kind")
    if suffix.startswith("status/"):
        component = suffix.removeprefix("status/")
        if component.partition(":")[0] not in _SHELLY_ENERGY_COMPONENTS:
            return ParsedMessage(ignored=f"Shelly status of {component}")
        document = decode_json(payload)
        if not isinstance(document, dict):
            raise Rejection("", "the payload must be a JSON object")
        if not _is_meter_channel(component, meter_channel):
            return ParsedMessage(ignored=f"Shelly channel {component} is not the POD's")
        reading = _shelly_component(component, document, window.received_at, "")
        if reading is None:
            # A status is the component's whole state: without a counter it has no meter.
            raise _no_counter(_shelly_expected(component), _keys_seen(document, nested=False))
        return ParsedMessage(counters=(reading,), stamped_on_arrival=True)
    if suffix == "events/rpc":
        return _parse_shelly_notification(payload, window, meter_channel)
    raise Rejection("topic", f"unexpected Shelly topic suffix {suffix!r}")


def _parse_shelly_notification(
    payload: bytes, window: _Window, meter_channel: int
) -> ParsedMessage:
    document = decode_json(payload)
    if not isinstance(document, dict):
        raise Rejection("", "the payload must be a JSON object")
    method = document.get("method")
    if method not in _SHELLY_STATUS_METHODS:
        return ParsedMessage(ignored=f"Shelly notification {method!r}")
    params = document.get("params")
    if not isinstance(params, dict):
        raise Rejection("params", "must be a JSON object")
    if "ts" not in params:
        raise Rejection("params.ts", "missing")
    measured_at = _unix_instant(params["ts"], "params.ts", window)
    components = [
        key
        for key, value in params.items()
        if key.partition(":")[0] in _SHELLY_ENERGY_COMPONENTS and isinstance(value, dict)
    ]
    readings = [
        _shelly_component(key, params[key], measured_at, f"params.{key}.")
        for key in components
        if _is_meter_channel(key, meter_channel)
    ]
    counters = tuple(reading for reading in readings if reading is not None)
    if len(counters) > 1:
        raise Rejection(
            "params",
            "more than one component carries energy counters "
            f"({', '.join(components)}); set the device's meter channel",
        )
    if counters:
        return ParsedMessage(counters=counters)
    if method == "NotifyFullStatus":
        # The full status lists every component: the meter channel's must carry counters.
        mine = [key for key in components if _is_meter_channel(key, meter_channel)]
        if mine:
            raise _no_counter(f"params.{mine[0]}", _keys_seen(params[mine[0]], nested=False))
        raise _no_counter("params", _keys_seen(params, nested=False))
    # NotifyStatus sends only what changed: often the power, not the counters.
    return ParsedMessage(ignored="Shelly notification without energy counters")


def _is_meter_channel(component: str, meter_channel: int) -> bool:
    name, _, number = component.partition(":")
    # The Pro 3EM has one emdata:0, the sum of its phases, whatever the channel setting.
    return name == "emdata" or number == str(meter_channel)


def _shelly_expected(component: str) -> str:
    name = component.partition(":")[0]
    if name == "emdata":
        return "total_act"
    if name == "em1data":
        return "total_act_energy"
    return "aenergy.total"


def _shelly_component(
    component: str, document: dict[str, Any], measured_at: dt.datetime, prefix: str
) -> CounterReading | None:
    """Read the counters of one component [Wh]; None when it carries none.

    Withdrawn energy is the active energy, injected the returned ("ret") energy.
    """
    name = component.partition(":")[0]
    if name == "emdata":
        # Pro 3EM: the sum of the three phases.
        withdrawn = _optional_kwh_or_wh(document, "total_act", prefix, scale=1)
        injected = _optional_kwh_or_wh(document, "total_act_ret", prefix, scale=1)
    elif name == "em1data":
        withdrawn = _optional_kwh_or_wh(document, "total_act_energy", prefix, scale=1)
        injected = _optional_kwh_or_wh(document, "total_act_ret_energy", prefix, scale=1)
    else:
        # switch:<n> and pm1:<n> nest their counters: {"aenergy": {"total": 1234.5, ...}}.
        withdrawn = _nested_total(document, "aenergy", prefix)
        injected = _nested_total(document, "ret_aenergy", prefix)
    if withdrawn is None and injected is None:
        return None
    return CounterReading(measured_at, injected, withdrawn)


def _nested_total(document: dict[str, Any], key: str, prefix: str) -> int | None:
    if key not in document:
        return None
    energy = document[key]
    if not isinstance(energy, dict):
        raise Rejection(prefix + key, f"must be a JSON object, got {energy!r}")
    return _optional_kwh_or_wh(energy, "total", f"{prefix}{key}.", scale=1)


# --- Tasmota -----------------------------------------------------------------------------


def _parse_tasmota(suffix: str, payload: bytes, window: _Window) -> ParsedMessage:
    if _TASMOTA_CHATTER.match(suffix):
        return ParsedMessage(ignored=f"Tasmota {suffix}")
    if suffix != "tele/SENSOR":
        raise Rejection("topic", f"unexpected Tasmota topic suffix {suffix!r}; set FullTopic")
    document = decode_json(payload)
    if not isinstance(document, dict):
        raise Rejection("", "the payload must be a JSON object")
    if "Time" not in document:
        raise Rejection("Time", "missing")
    measured_at = _instant(
        document["Time"], "Time", window, hint=" (set SetOption52 1 on the device)"
    )
    found: dict[str, tuple[int | None, int | None]] = {}
    for meter, values in document.items():
        if not isinstance(values, dict):
            continue
        if meter == "ENERGY":
            # Values are kWh; a list holds one value per phase (SetOption129 1): the meter
            # of the connection point measures all phases, so the phases are summed.
            withdrawn = _optional_kwh_or_wh(values, "Total", "ENERGY.", scale=1000)
            injected = _first_present(values, _TASMOTA_EXPORT_KEYS, "ENERGY.")
        else:
            withdrawn = _first_present(values, _SML_IMPORT_KEYS, f"{meter}.")
            injected = _first_present(values, _SML_EXPORT_KEYS, f"{meter}.")
        if withdrawn is not None or injected is not None:
            found[meter] = (injected, withdrawn)
    if len(found) > 1:
        raise Rejection(
            list(found)[1],
            f"more than one meter carries energy counters ({', '.join(found)}); "
            "a device reads the meter of one connection point",
        )
    if not found:
        raise _no_counter("ENERGY.Total", _keys_seen(document, nested=True, skip=("Time",)))
    ((meter, (injected, withdrawn)),) = found.items()
    # TotalStartTime changes when the energy counters are reset (EnergyTotal 0).
    started = document[meter].get("TotalStartTime") if meter == "ENERGY" else None
    epoch = started[:40] if isinstance(started, str) else ""
    return ParsedMessage(counters=(CounterReading(measured_at, injected, withdrawn, epoch),))


def _first_present(values: dict[str, Any], keys: tuple[str, ...], prefix: str) -> int | None:
    for key in keys:
        if key in values:
            return _optional_kwh_or_wh(values, key, prefix, scale=1000)
    return None


def _no_counter(field: str, keys: str) -> Rejection:
    return Rejection(field, f"no energy counter found; keys seen: {keys or 'none'}")


def _keys_seen(document: dict[str, Any], *, nested: bool, skip: tuple[str, ...] = ()) -> str:
    """List a payload's keys for a rejection; `nested` spells inner objects' as `outer.inner`."""
    keys: list[str] = []
    for key, value in document.items():
        if key in skip:
            continue
        if nested and isinstance(value, dict) and value:
            keys += [f"{key}.{inner}" for inner in value]
        else:
            keys.append(str(key))
    listed = ", ".join(keys[:_KEYS_LISTED])
    return listed + (f" and {len(keys) - _KEYS_LISTED} more" if len(keys) > _KEYS_LISTED else "")


# --- shared helpers ----------------------------------------------------------------------


def decode_json(payload: bytes) -> Any:
    """Decode UTF-8 JSON with decimals kept exact. Raises Rejection naming the payload."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejection("payload", f"not UTF-8 text (byte {error.start})") from error
    try:
        if text.startswith("\ufeff"):  # as json.loads does
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _JSON.decode(text)
    except json.JSONDecodeError as error:
        raise Rejection(
            "payload", f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except RecursionError as error:
        raise Rejection("payload", "JSON nested too deeply") from error


def _optional_kwh_or_wh(
    document: dict[str, Any], key: str, prefix: str, *, scale: int
) -> int | None:
    """Read a non-negative counter and return it in whole Wh (rounded down)."""
    if key not in document:
        return None
    value = document[key]
    if isinstance(value, list):
        # Tasmota reports one value per phase when configured so; the meter is their sum.
        if not value:
            raise Rejection(prefix + key, "an empty list (expected one value per phase)")
        parts = [_number(part, prefix + key) for part in value]
        number = sum(parts, Decimal(0))
    else:
        number = _number(value, prefix + key)
    if number < 0:
        raise Rejection(prefix + key, f"a counter must not be negative, got {value}")
    return int(number * scale)  # int() truncates: floor for non-negative numbers


def _number(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise Rejection(field, f"must be a number, got {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise Rejection(field, "must be a finite number")
    return number


def _instant(value: Any, field: str, window: _Window, *, hint: str = "") -> dt.datetime:
    if not isinstance(value, str):
        raise Rejection(field, f"must be an ISO 8601 string, got {value!r}")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise Rejection(field, f"{value!r} is not an ISO 8601 timestamp") from error
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Rejection(field, f"{value!r} has no UTC offset{hint}")
    try:
        moment = moment.astimezone(dt.UTC)
    except OverflowError as error:
        raise Rejection(field, f"{value!r} is out of range") from error
    return _within(moment, field, window)


def _unix_instant(value: Any, field: str, window: _Window) -> dt.datetime:
    try:
        seconds = _number(value, field)
        moment = _EPOCH + dt.timedelta(microseconds=int(seconds * 1_000_000))
    except (OverflowError, InvalidOperation) as error:
        raise Rejection(field, f"{value!r} is not a Unix time") from error
    return _within(moment, field, window)


def _within(moment: dt.datetime, field: str, window: _Window) -> dt.datetime:
    """Return `moment` if a device could have measured it; otherwise raise Rejection.

    A device that lost its clock counts from 1970 (or from year 1): such a reading is
    refused before it can create rows in months long settled.
    """
    received_at = window.received_at
    if moment > received_at + MAX_CLOCK_AHEAD:
        raise Rejection(
            field, f"{moment.isoformat()} is in the future (received {received_at.isoformat()})"
        )
    if window.registered_at is not None:
        # The whole day of registration counts: an installer often registers the device
        # after mounting it, and its first readings may precede the account by hours.
        day, day_start = _registration_day(window.registered_at)
        if moment < day_start:
            raise Rejection(
                field,
                f"{_iso(moment)} is before the device was registered ({day.isoformat()}); "
                "set the device's clock (NTP)",
            )
    if window.max_age is not None and moment < received_at - window.max_age:
        raise Rejection(
            field,
            f"{_iso(moment)} is more than {window.max_age.days} days before its arrival "
            f"({_iso(received_at)}); set the device's clock (NTP)",
        )
    return moment


@functools.lru_cache(maxsize=4096)
def _registration_day(registered_at: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The Europe/Rome day of a registration and its first instant (one per device)."""
    day = registered_at.astimezone(ROME).date()
    return day, dt.datetime.combine(day, dt.time(), tzinfo=ROME)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
