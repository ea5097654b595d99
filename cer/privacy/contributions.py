"""Personal data and retention rules that apps above privacy hold, registered with it.

Privacy stands with the nouns (cer/layers.py); a member's devices and readings live a
floor above, in metering. Rather than privacy reaching up, such an app registers what it
keeps about a person (an export section), how long (a retention rule) and how it is
erased when the person asks (an erasure hook) in its
AppConfig.ready; the GDPR export and the retention run (cer.privacy.gdpr) call whatever
was registered, in the order of INSTALLED_APPS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The rows of one section of a member's export: a list of flat dicts, one per record.
ExportSection = Callable[[Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class RetentionRule:
    """A rule applied by `manage.py apply_retention`: returns how many records it touched."""

    code: str
    description: str
    apply: Callable[[dt.datetime], int]


# Erases what an app keeps about a member; returns what it erased, in words for the record.
ErasureHook = Callable[[Any, dt.datetime], list[str]]

_sections: dict[str, ExportSection] = {}
_rules: dict[str, RetentionRule] = {}
_erasures: dict[str, ErasureHook] = {}


def register_export_section(name: str, rows_of_member: ExportSection) -> None:
    """Add `name` to every member's export, filled by `rows_of_member(member)`."""
    _sections[name] = rows_of_member


def register_retention_rule(rule: RetentionRule) -> None:
    """Apply `rule` with the platform's own retention rules."""
    _rules[rule.code] = rule


def register_erasure(name: str, erase: ErasureHook) -> None:
    """Call `erase(member, now)` inside every member's erasure (cer.privacy.gdpr)."""
    _erasures[name] = erase


def erasures() -> dict[str, ErasureHook]:
    return dict(_erasures)


def export_sections() -> dict[str, ExportSection]:
    return dict(_sections)


def retention_rules() -> tuple[RetentionRule, ...]:
    return tuple(_rules.values())
