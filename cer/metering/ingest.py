"""From an MQTT topic and payload bytes to readings, or to a precise rejection reason.

Pure functions: no Django, no database, no clock (the arrival time is passed in).
The formats and the topic scheme are described in docs/metering.md:

- the platform's own JSON (interval energy or cumulative counters, in Wh);
- Shelly Gen2 energy meters: Pro 3EM `emdata:0` (total_act, total_act_ret) and
  Pro EM `em1data:<n>` (total_act_energy, total_act_ret_energy), as status
  topics or as `NotifyStatus` / `NotifyFullStatus` notifications on `events/rpc`;
- Tasmota `tele/SENSOR` telemetry, with ENERGY (Total, ExportActive) or an SML
  meter (Total_in, Total_out), both in kWh.

Energy leaves this module as integer Wh; instants leave it as UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# The payload formats; the values equal the codes of metering.models.DeviceKind.
OWN_JSON = "OWN_JSON"
SHELLY_EM = "SHELLY_EM"
TASMOTA = "TASMOTA"

TOPIC_ROOT = "cer"
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_READINGS_PER_MESSAGE = 1000
MAX_INTERVAL = dt.timedelta(days=1)
# Device clocks drift; a reading further ahead of its arrival than this is refused.
MAX_CLOCK_AHEAD = dt.timedelta(minutes=10)
# A meter may exceed the contracted power by 10 % indefinitely (ARERA TIT, limitatore
# at 110 %); the extra watt-hour absorbs the rounding of counters to whole Wh.
POWER_TOLERANCE = Decimal("1.1")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_TOPIC_PATTERN = re.compile(
    r"^cer/(?P<configuration>[1-9][0-9]{0,17})/(?P<pod>IT[0-9]{3}E[0-9]{8})"
    r"/(?P<device>[a-z0-9][a-z0-9_-]{0,39})/(?P<suffix>.+)$"
)
_OWN_INTERVAL_FIELDS = frozenset({"start", "end", "injected_wh", "withdrawn_wh"})
_OWN_COUNTER_FIELDS = frozenset({"at", "injected_total_wh", "withdrawn_total_wh"})
_OWN_TOP_FIELDS = frozenset({"v", "readings"})
_SHELLY_STATUS_METHODS = frozenset({"NotifyStatus", "NotifyFullStatus"})
# SML scripts name their values freely; these are the names of the Tasmota docs' examples.
_SML_IMPORT_KEYS = ("Total_in", "E_in", "1_8_0")
_SML_EXPORT_KEYS = ("Total_out", "E_out", "2_8_0")
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
    """Energy exchanged in [start_at, end_at) (UTC) [Wh]."""

    start_at: dt.datetime
    end_at: dt.datetime
    injected_wh: int
    withdrawn_wh: int


@dataclass(frozen=True)
class CounterReading:
    """Cumulative counters at one instant (UTC) [Wh]; None where the device has no counter."""

    measured_at: dt.datetime
    injected_total_wh: int | None
    withdrawn_total_wh: int | None


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
    *, kind: str, suffix: str, payload: bytes, received_at: dt.datetime, meter_channel: int = 0
) -> ParsedMessage:
    """Turn the payload of a device's message into readings.

    `suffix` is the topic after the device's prefix, `received_at` the arrival
    instant (aware), used as the measurement time of payloads that carry none and
    to refuse readings from the future. Raises Rejection with the offending field.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejection("payload", f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    if kind == OWN_JSON:
        return _parse_own(suffix, payload, received_at)
    if kind == SHELLY_EM:
        return _parse_shelly(suffix, payload, received_at, meter_channel)
    if kind == TASMOTA:
        return _parse_tasmota(suffix, payload, received_at)
    raise Rejection("kind", f"unknown payload format {kind!r}")


def parse_own_readings(document: Any, *, received_at: dt.datetime) -> ParsedMessage:
    """Validate an already decoded JSON document of the platform's own format.

    Used by the HTTP endpoints, which decode the body themselves. Raises Rejection.
    """
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
        reading = _own_reading(prefix, item, received_at)
        if isinstance(reading, IntervalReading):
            intervals.append(reading)
        else:
            counters.append(reading)
    return ParsedMessage(intervals=tuple(intervals), counters=tuple(counters))


def check_plausible(message: ParsedMessage, *, limits: PowerLimits) -> None:
    """Refuse interval energy the point cannot physically exchange in the interval.

    The bound is power [W] × 1.1 × duration [h], plus 1 Wh. Counters are checked
    later, pair by pair, by counter_delta_wh. Raises Rejection naming the reading.
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


def max_energy_wh(*, power_w: int, seconds: float) -> int:
    """Return the most energy [Wh] a power [W] can deliver in `seconds`, with tolerance."""
    return math.ceil(Decimal(power_w) * POWER_TOLERANCE * Decimal(seconds) / 3600) + 1


def counter_delta_wh(
    *, previous_wh: int, value_wh: int, seconds: float, power_w: int, rollover_wh: int | None
) -> int:
    """Return the energy [Wh] between two readings of a cumulative counter.

    A counter lower than before either wrapped at `rollover_wh` (when the wrap is
    plausible) or was reset to zero, in which case only `value_wh` is counted. A
    jump the point's power [W] cannot explain (meter replaced, counter set by hand)
    counts as 0: the next pair continues from the new value.
    """
    if value_wh >= previous_wh:
        delta = value_wh - previous_wh
    elif rollover_wh and previous_wh < rollover_wh:
        wrapped = rollover_wh - previous_wh + value_wh
        limit = max_energy_wh(power_w=power_w, seconds=seconds)
        delta = wrapped if wrapped <= limit else value_wh
    else:
        delta = value_wh
    if delta > max_energy_wh(power_w=power_w, seconds=seconds):
        return 0
    return delta


def split_over_hours(
    start_at: dt.datetime,
    end_at: dt.datetime,
    energy_wh: int,
    *,
    step: dt.timedelta = dt.timedelta(hours=1),
) -> list[tuple[dt.datetime, int]]:
    """Spread energy [Wh] over the UTC buckets of `step` that [start_at, end_at) covers.

    Each bucket gets the share of its overlap, rounded down on the running total so
    the parts add up exactly to `energy_wh`; the result depends only on the inputs.
    """
    one_us = dt.timedelta(microseconds=1)
    start_us = (start_at - _EPOCH) // one_us
    end_us = (end_at - _EPOCH) // one_us
    step_us = step // one_us
    first = start_us - start_us % step_us
    if end_us <= first + step_us:
        return [(_EPOCH + dt.timedelta(microseconds=first), energy_wh)]
    total_us = end_us - start_us
    parts: list[tuple[dt.datetime, int]] = []
    given = 0
    bucket = first
    while bucket < end_us:
        upto = min(bucket + step_us, end_us)
        cumulative = energy_wh * (upto - start_us) // total_us
        parts.append((_EPOCH + dt.timedelta(microseconds=bucket), cumulative - given))
        given = cumulative
        bucket += step_us
    return parts


# --- the platform's own JSON -------------------------------------------------------------


def _parse_own(suffix: str, payload: bytes, received_at: dt.datetime) -> ParsedMessage:
    if suffix == "status":
        return ParsedMessage(ignored="device status")
    if suffix != "readings":
        raise Rejection("topic", f"unexpected topic suffix {suffix!r}; readings go to .../readings")
    return parse_own_readings(decode_json(payload), received_at=received_at)


def _own_reading(
    prefix: str, item: Any, received_at: dt.datetime
) -> IntervalReading | CounterReading:
    if not isinstance(item, dict):
        raise Rejection(prefix.rstrip("."), "each reading must be a JSON object")
    keys = set(item)
    if "at" in keys and ("start" in keys or "end" in keys):
        raise Rejection(prefix + "at", "a reading has either start and end, or at")
    if "at" in keys:
        unknown = sorted(keys - _OWN_COUNTER_FIELDS)
        if unknown:
            raise Rejection(prefix + unknown[0], "unknown field")
        measured_at = _instant(item["at"], prefix + "at", received_at)
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
    start_at = _instant(item["start"], prefix + "start", received_at)
    end_at = _instant(item["end"], prefix + "end", received_at)
    if end_at <= start_at:
        raise Rejection(prefix + "end", "must be after start")
    if end_at - start_at > MAX_INTERVAL:
        raise Rejection(prefix + "end", "an interval may last at most one day")
    injected = _optional_wh(item, "injected_wh", prefix)
    withdrawn = _optional_wh(item, "withdrawn_wh", prefix)
    if injected is None and withdrawn is None:
        raise Rejection(prefix + "withdrawn_wh", "an interval needs injected_wh or withdrawn_wh")
    return IntervalReading(start_at, end_at, injected or 0, withdrawn or 0)


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
    suffix: str, payload: bytes, received_at: dt.datetime, meter_channel: int
) -> ParsedMessage:
    if suffix == "online":
        return ParsedMessage(ignored="Shelly online flag")
    if suffix.startswith("status/"):
        component = suffix.removeprefix("status/")
        if not component.startswith(("emdata:", "em1data:")):
            return ParsedMessage(ignored=f"Shelly status of {component}")
        document = decode_json(payload)
        if not isinstance(document, dict):
            raise Rejection("", "the payload must be a JSON object")
        reading = _shelly_component(component, document, received_at, meter_channel, "")
        if reading is None:
            return ParsedMessage(ignored=f"Shelly channel {component} is not the POD's")
        return ParsedMessage(counters=(reading,), stamped_on_arrival=True)
    if suffix == "events/rpc":
        document = decode_json(payload)
        if not isinstance(document, dict):
            raise Rejection("", "the payload must be a JSON object")
        if document.get("method") not in _SHELLY_STATUS_METHODS:
            return ParsedMessage(ignored=f"Shelly notification {document.get('method')!r}")
        params = document.get("params")
        if not isinstance(params, dict):
            raise Rejection("params", "must be a JSON object")
        if "ts" not in params:
            raise Rejection("params.ts", "missing")
        measured_at = _unix_instant(params["ts"], "params.ts", received_at)
        readings = [
            _shelly_component(key, value, measured_at, meter_channel, f"params.{key}.")
            for key, value in params.items()
            if key.startswith(("emdata:", "em1data:")) and isinstance(value, dict)
        ]
        counters = tuple(reading for reading in readings if reading is not None)
        if not counters:
            return ParsedMessage(ignored="Shelly notification without energy counters")
        return ParsedMessage(counters=counters)
    raise Rejection("topic", f"unexpected Shelly topic suffix {suffix!r}")


def _shelly_component(
    component: str,
    document: dict[str, Any],
    measured_at: dt.datetime,
    meter_channel: int,
    prefix: str,
) -> CounterReading | None:
    name, _, number = component.partition(":")
    if name == "emdata":
        # Pro 3EM: the sum of the three phases; "ret" is energy returned to the grid.
        withdrawn_key, injected_key = "total_act", "total_act_ret"
    else:
        if number != str(meter_channel):
            return None
        withdrawn_key, injected_key = "total_act_energy", "total_act_ret_energy"
    withdrawn = _optional_kwh_or_wh(document, withdrawn_key, prefix, scale=1)
    injected = _optional_kwh_or_wh(document, injected_key, prefix, scale=1)
    if withdrawn is None and injected is None:
        # NotifyStatus sends only what changed; a status without energy is an error.
        if prefix:
            return None
        raise Rejection(withdrawn_key, f"missing (expected {withdrawn_key} and {injected_key})")
    return CounterReading(measured_at, injected, withdrawn)


# --- Tasmota -----------------------------------------------------------------------------


def _parse_tasmota(suffix: str, payload: bytes, received_at: dt.datetime) -> ParsedMessage:
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
        document["Time"], "Time", received_at, hint=" (set SetOption52 1 on the device)"
    )
    energy = document.get("ENERGY")
    if isinstance(energy, dict) and "Total" in energy:
        withdrawn = _optional_kwh_or_wh(energy, "Total", "ENERGY.", scale=1000)
        injected = _optional_kwh_or_wh(energy, "ExportActive", "ENERGY.", scale=1000)
        return ParsedMessage(counters=(CounterReading(measured_at, injected, withdrawn),))
    for meter, values in document.items():
        if not isinstance(values, dict):
            continue
        withdrawn = _first_present(values, _SML_IMPORT_KEYS, f"{meter}.")
        injected = _first_present(values, _SML_EXPORT_KEYS, f"{meter}.")
        if withdrawn is not None or injected is not None:
            return ParsedMessage(counters=(CounterReading(measured_at, injected, withdrawn),))
    raise Rejection(
        "ENERGY.Total", "no energy counter: expected ENERGY.Total or an SML Total_in/Total_out"
    )


def _first_present(values: dict[str, Any], keys: tuple[str, ...], prefix: str) -> int | None:
    for key in keys:
        if key in values:
            return _optional_kwh_or_wh(values, key, prefix, scale=1000)
    return None


# --- shared helpers ----------------------------------------------------------------------


def decode_json(payload: bytes) -> Any:
    """Decode UTF-8 JSON with decimals kept exact. Raises Rejection naming the payload."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejection("payload", f"not UTF-8 text (byte {error.start})") from error
    try:
        # Decimal keeps counters such as 1234.567 kWh exact when scaled to Wh.
        return json.loads(text, parse_float=Decimal)
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


def _instant(value: Any, field: str, received_at: dt.datetime, *, hint: str = "") -> dt.datetime:
    if not isinstance(value, str):
        raise Rejection(field, f"must be an ISO 8601 string, got {value!r}")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise Rejection(field, f"{value!r} is not an ISO 8601 timestamp") from error
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Rejection(field, f"{value!r} has no UTC offset{hint}")
    return _not_in_future(moment.astimezone(dt.UTC), field, received_at)


def _unix_instant(value: Any, field: str, received_at: dt.datetime) -> dt.datetime:
    try:
        seconds = _number(value, field)
        moment = _EPOCH + dt.timedelta(microseconds=int(seconds * 1_000_000))
    except (OverflowError, InvalidOperation) as error:
        raise Rejection(field, f"{value!r} is not a Unix time") from error
    return _not_in_future(moment, field, received_at)


def _not_in_future(moment: dt.datetime, field: str, received_at: dt.datetime) -> dt.datetime:
    if moment > received_at + MAX_CLOCK_AHEAD:
        raise Rejection(
            field, f"{moment.isoformat()} is in the future (received {received_at.isoformat()})"
        )
    return moment
