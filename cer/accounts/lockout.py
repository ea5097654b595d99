"""Refused logins and the lockouts they cause, shared by the web, admin and API logins.

Three counters over the same 15-minute window (OWASP ASVS 2.2.1), all in the database
so that every worker process sees them:
- one username from one address: 5 refusals lock that pair;
- one username from any address: 10 refusals lock the account (a slow spray from many
  addresses), until the window passes or an administrator unlocks it;
- one address, any username: 30 refusals lock the address (password spraying).
A success clears the pair's refusals, not the account's or the address's.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import QuerySet

from cer.accounts.models import LoginFailure

WINDOW = dt.timedelta(minutes=15)
PAIR_LIMIT = 5
ACCOUNT_LIMIT = 10
ADDRESS_LIMIT = 30


@dataclass(frozen=True)
class Lockout:
    """Why logins are refused and for how many more seconds."""

    scope: str  # "pair", "account" or "address"
    retry_after: int


def _wait(failures: QuerySet[LoginFailure], limit: int, now: dt.datetime) -> int:
    recent = failures.filter(at__gt=now - WINDOW).order_by("-at")
    times = list(recent.values_list("at", flat=True)[:limit])
    if len(times) < limit:
        return 0
    return max(1, math.ceil((times[-1] + WINDOW - now).total_seconds()))


def current_lockout(*, username: str, ip_address: str, now: dt.datetime) -> Lockout | None:
    """Return the longest lockout in force for this username and address, or None."""
    username = username[:150]
    waits = [
        Lockout(
            "pair",
            _wait(
                LoginFailure.objects.filter(username=username, ip_address=ip_address),
                PAIR_LIMIT,
                now,
            ),
        ),
        Lockout(
            "account", _wait(LoginFailure.objects.filter(username=username), ACCOUNT_LIMIT, now)
        ),
        Lockout(
            "address", _wait(LoginFailure.objects.filter(ip_address=ip_address), ADDRESS_LIMIT, now)
        ),
    ]
    longest = max(waits, key=lambda lockout: lockout.retry_after)
    return longest if longest.retry_after else None


def note_failure(*, username: str, ip_address: str, now: dt.datetime) -> None:
    LoginFailure.objects.create(username=username[:150], ip_address=ip_address, at=now)


def clear_pair(*, username: str, ip_address: str) -> None:
    LoginFailure.objects.filter(username=username[:150], ip_address=ip_address).delete()


def unlock_account(*, username: str) -> int:
    """Forget every refusal for `username` (an administrator's unlock); return how many."""
    deleted, _detail = LoginFailure.objects.filter(username=username[:150]).delete()
    return deleted
