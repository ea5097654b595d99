"""Rejection reasons in the reader's language, and grouped for filtering.

The ingestion path stores each reason as English text (it is written by pure code that
knows no language, and kept as evidence). Here the known sentences are recognised by
pattern and rendered through gettext with their values; a reason no pattern knows is
shown as stored. The same patterns, without group names, filter the list in SQL.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ReasonPattern:
    """One English reason sentence: `regex` with named values, `text` its translation."""

    regex: re.Pattern[str]
    text: Promise


@dataclass(frozen=True)
class ReasonGroup:
    code: str
    label: Promise
    patterns: tuple[ReasonPattern, ...]


def _exact(sentence: str, text: Promise) -> ReasonPattern:
    return ReasonPattern(re.compile("^" + re.escape(sentence) + "$"), text)


def _shaped(regex: str, text: Promise) -> ReasonPattern:
    return ReasonPattern(re.compile(regex), text)


OTHER = "OTHER"

GROUPS: tuple[ReasonGroup, ...] = (
    ReasonGroup(
        "TOPIC",
        _("Topic"),
        (
            _shaped(
                r"^topic (?P<topic>.+) does not match "
                r"cer/<configuration id>/<POD>/<device>/<suffix>$",
                _("topic %(topic)s does not match cer/<configuration id>/<POD>/<device>/<suffix>"),
            ),
            _shaped(
                r"^unexpected topic suffix (?P<suffix>.+); readings go to \.\.\./readings$",
                _("unexpected topic suffix %(suffix)s; readings go to .../readings"),
            ),
            _shaped(
                r"^unexpected Shelly topic suffix (?P<suffix>.+)$",
                _("unexpected Shelly topic suffix %(suffix)s"),
            ),
            _shaped(
                r"^unexpected Tasmota topic suffix (?P<suffix>.+); set FullTopic$",
                _("unexpected Tasmota topic suffix %(suffix)s; set FullTopic"),
            ),
        ),
    ),
    ReasonGroup(
        "DEVICE",
        _("Unknown, disabled or deleted device"),
        (
            _shaped(
                r"^no device (?P<device>.+) at POD (?P<pod>[^ ]+) in configuration "
                r"(?P<configuration>[0-9]+)$",
                _("no device %(device)s at POD %(pod)s in configuration %(configuration)s"),
            ),
            _shaped(r"^device (?P<device>.+) is disabled$", _("device %(device)s is disabled")),
            _shaped(r"^device (?P<device>.+) is deleted$", _("device %(device)s is deleted")),
            _exact(
                "counter readings must be sent by a device, not a user",
                _("counter readings must be sent by a device, not a user"),
            ),
        ),
    ),
    ReasonGroup(
        "FORMAT",
        _("Not JSON, or not the expected shape"),
        (
            _shaped(
                r"^payload of (?P<size>[0-9]+) bytes exceeds (?P<limit>[0-9]+)$",
                _("payload of %(size)s bytes exceeds %(limit)s"),
            ),
            _shaped(
                r"^not UTF-8 text \(byte (?P<byte>[0-9]+)\)$",
                _("not UTF-8 text (byte %(byte)s)"),
            ),
            _shaped(
                r"^not JSON: (?P<error>.+) at line (?P<line>[0-9]+) column (?P<column>[0-9]+)$",
                _("not JSON: %(error)s at line %(line)s column %(column)s"),
            ),
            _exact("JSON nested too deeply", _("JSON nested too deeply")),
            _exact("the payload must be a JSON object", _("the payload must be a JSON object")),
            _exact("each reading must be a JSON object", _("each reading must be a JSON object")),
            _exact("must be a JSON object", _("must be a JSON object")),
            _exact("must be a non-empty list", _("must be a non-empty list")),
            _shaped(r"^more than (?P<count>[0-9]+) readings$", _("more than %(count)s readings")),
            _exact("unknown field", _("unknown field")),
            _exact("missing", _("missing")),
            _shaped(
                r"^missing \(expected (?P<first>[^ ]+) and (?P<second>[^ ]+)\)$",
                _("missing (expected %(first)s and %(second)s)"),
            ),
            _exact(
                "missing (an interval reading has start and end)",
                _("missing (an interval reading has start and end)"),
            ),
            _exact(
                "a reading has either start and end, or at",
                _("a reading has either start and end, or at"),
            ),
        ),
    ),
    ReasonGroup(
        "VALUE",
        _("Energy value"),
        (
            _shaped(
                r"^must be a whole number of Wh, got (?P<value>.+)$",
                _("must be a whole number of Wh, got %(value)s"),
            ),
            _shaped(
                r"^must not be negative, got (?P<value>.+)$",
                _("must not be negative, got %(value)s"),
            ),
            _shaped(
                r"^a counter must not be negative, got (?P<value>.+)$",
                _("a counter must not be negative, got %(value)s"),
            ),
            _shaped(r"^must be a number, got (?P<value>.+)$", _("must be a number, got %(value)s")),
            _exact("must be a finite number", _("must be a finite number")),
            _exact(
                "a counter reading needs injected_total_wh or withdrawn_total_wh",
                _("a counter reading needs injected_total_wh or withdrawn_total_wh"),
            ),
            _exact(
                "an interval needs injected_wh or withdrawn_wh",
                _("an interval needs injected_wh or withdrawn_wh"),
            ),
            _shaped(
                r"^no energy counter found; keys seen: (?P<keys>.+)$",
                _("no energy counter found; keys seen: %(keys)s"),
            ),
            _shaped(
                r"^must be a JSON object, got (?P<value>.+)$",
                _("must be a JSON object, got %(value)s"),
            ),
            _exact(
                "an empty list (expected one value per phase)",
                _("an empty list (expected one value per phase)"),
            ),
            _shaped(
                r"^(?P<energy>[0-9]+) Wh in (?P<seconds>[^ ]+) s exceeds the (?P<bound>[0-9]+) Wh "
                r"that (?P<power>[0-9]+) W allow at this point$",
                _(
                    "%(energy)s Wh in %(seconds)s s exceeds the %(bound)s Wh that %(power)s W "
                    "allow at this point"
                ),
            ),
        ),
    ),
    ReasonGroup(
        "TIME",
        _("Timestamp"),
        (
            _shaped(
                r"^(?P<value>.+) has no UTC offset \(set SetOption52 1 on the device\)$",
                _("%(value)s has no UTC offset (set SetOption52 1 on the device)"),
            ),
            _shaped(r"^(?P<value>.+) has no UTC offset$", _("%(value)s has no UTC offset")),
            _shaped(
                r"^must be an ISO 8601 string, got (?P<value>.+)$",
                _("must be an ISO 8601 string, got %(value)s"),
            ),
            _shaped(
                r"^(?P<value>.+) is not an ISO 8601 timestamp$",
                _("%(value)s is not an ISO 8601 timestamp"),
            ),
            _shaped(r"^(?P<value>.+) is not a Unix time$", _("%(value)s is not a Unix time")),
            _shaped(
                r"^(?P<moment>.+) is in the future \(received (?P<received>.+)\)$",
                _("%(moment)s is in the future (received %(received)s)"),
            ),
            _shaped(
                r"^(?P<moment>.+) is before the device was registered \((?P<day>[0-9-]+)\); "
                r"set the device's clock \(NTP\)$",
                _(
                    "%(moment)s is before the device was registered (%(day)s); set the "
                    "device's clock (NTP)"
                ),
            ),
            _shaped(
                r"^(?P<moment>.+) is more than (?P<days>[0-9]+) days before its arrival "
                r"\((?P<received>.+)\); set the device's clock \(NTP\)$",
                _(
                    "%(moment)s is more than %(days)s days before its arrival (%(received)s); "
                    "set the device's clock (NTP)"
                ),
            ),
            _shaped(
                r"^the readings reach over (?P<hours>[0-9]+) hours, from (?P<first>.+) to "
                r"(?P<last>.+); one message may cover at most (?P<most>[0-9]+) hours$",
                _(
                    "the readings reach over %(hours)s hours, from %(first)s to %(last)s; one "
                    "message may cover at most %(most)s hours"
                ),
            ),
            _shaped(r"^(?P<value>.+) is out of range$", _("%(value)s is out of range")),
            _exact("must be after start", _("must be after start")),
            _exact(
                "an interval may last at most one day", _("an interval may last at most one day")
            ),
        ),
    ),
)

# Why a counter value is in quarantine (cer.metering.counter_rules); not a rejection group.
COUNTER_PATTERNS: tuple[ReasonPattern, ...] = (
    _shaped(
        r"^the counter jumped by (?P<delta>[0-9]+) Wh in (?P<seconds>[^ ]+) s, more than the "
        r"(?P<limit>[0-9]+) Wh that (?P<power>[0-9]+) W allow$",
        _(
            "the counter jumped by %(delta)s Wh in %(seconds)s s, more than the %(limit)s Wh "
            "that %(power)s W allow"
        ),
    ),
    _shaped(
        r"^the counter went back from (?P<before>[0-9]+) Wh to (?P<value>[0-9]+) Wh; not a "
        r"reset, since [0-9]+ Wh is more than the (?P<limit>[0-9]+) Wh that (?P<power>[0-9]+) "
        r"W allow in (?P<seconds>[^ ]+) s$",
        _(
            "the counter went back from %(before)s Wh to %(value)s Wh; not a reset, since "
            "%(value)s Wh is more than the %(limit)s Wh that %(power)s W allow in %(seconds)s s"
        ),
    ),
    _shaped(
        r"^the device reports a new counter \((?P<epoch>.*)\) showing (?P<value>[0-9]+) Wh, "
        r"more than the (?P<limit>[0-9]+) Wh that (?P<power>[0-9]+) W allow in "
        r"(?P<seconds>[^ ]+) s$",
        _(
            "the device reports a new counter (%(epoch)s) showing %(value)s Wh, more than the "
            "%(limit)s Wh that %(power)s W allow in %(seconds)s s"
        ),
    ),
    _shaped(
        r"^the value (?P<value>[0-9]+) Wh does not fit the next one \((?P<next>[0-9]+) Wh\), "
        r"which continues from (?P<before>[0-9]+) Wh$",
        _(
            "the value %(value)s Wh does not fit the next one (%(next)s Wh), which continues "
            "from %(before)s Wh"
        ),
    ),
    _exact(
        "the value does not fit the values that follow it",
        _("the value does not fit the values that follow it"),
    ),
)

GROUP_CHOICES: list[tuple[str, Promise]] = [(group.code, group.label) for group in GROUPS] + [
    (OTHER, _("Other"))
]


def translate_reason(reason: str) -> str:
    """Return a stored English reason in the active language (unchanged when unknown)."""
    patterns = [pattern for group in GROUPS for pattern in group.patterns]
    for pattern in [*patterns, *COUNTER_PATTERNS]:
        match = pattern.regex.match(reason)
        if match:
            return str(pattern.text) % match.groupdict()
    return reason


def _sql_regex(pattern: ReasonPattern) -> str:
    # PostgreSQL's regular expressions have no named groups; the match is the same.
    return re.sub(r"\(\?P<[a-z]+>", "(", pattern.regex.pattern)


def _any_of(patterns: list[ReasonPattern]) -> Q:
    return functools.reduce(
        operator.or_, (Q(reason__regex=_sql_regex(pattern)) for pattern in patterns)
    )


def reason_filter(code: str) -> Q:
    """Return the condition on RejectedMessage.reason that selects one group of reasons."""
    if code == OTHER:
        return ~_any_of([pattern for group in GROUPS for pattern in group.patterns])
    for group in GROUPS:
        if group.code == code:
            return _any_of(list(group.patterns))
    raise ValueError(f"unknown reason group {code!r}")
