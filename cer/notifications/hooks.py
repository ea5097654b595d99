"""What the apps above tell this app at start-up: who manages a community, what to check.

Notifications stand on the ground floor (cer/layers.py) and cannot read memberships or
devices. The members app registers how to find a community's managers (a permanent
delivery failure is shown to them) and a user's mobile number (the SMS channel); apps
with conditions to watch over time (a device gone silent) register a periodic check,
which `manage.py deliver_notifications` runs before each round of deliveries. All are
registered from AppConfig.ready.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

ManagersLookup = Callable[[int, dt.datetime], list[Any]]
PeriodicCheck = Callable[[dt.datetime], int]
PhoneLookup = Callable[[Any], "str | None"]

_managers_lookup: list[ManagersLookup] = []
_checks: dict[str, PeriodicCheck] = {}
_phone_lookup: list[PhoneLookup] = []


def register_managers_lookup(lookup: ManagersLookup) -> None:
    """Use `lookup(community_id, now)` to find the users who manage a community."""
    _managers_lookup[:] = [lookup]


def managers_of(community_id: int | None, now: dt.datetime) -> list[Any]:
    """Return the users who manage the community (none when nobody registered a lookup)."""
    if community_id is None or not _managers_lookup:
        return []
    return list(_managers_lookup[0](community_id, now))


def register_phone_lookup(lookup: PhoneLookup) -> None:
    """Use `lookup(user)` to find a user's mobile number (E.164), or None."""
    _phone_lookup[:] = [lookup]


def phone_of(user: Any) -> str | None:
    """Return the user's mobile number in E.164 ("+393331234567"), or None (none known)."""
    if not _phone_lookup:
        return None
    return _phone_lookup[0](user)


def register_periodic_check(code: str, check: PeriodicCheck) -> None:
    """Run `check(now)` on every round of the sender; it returns how many it notified."""
    _checks[code] = check


def run_periodic_checks(now: dt.datetime) -> dict[str, int]:
    """Run every registered check; one that fails is logged and does not stop the others."""
    outcome: dict[str, int] = {}
    for code, check in _checks.items():
        try:
            outcome[code] = check(now)
        except Exception:
            logger.exception("periodic check %s failed", code)
            outcome[code] = -1
    return outcome
