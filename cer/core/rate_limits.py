"""Fixed-window counters in the shared cache: how many events a subject (a client
address, a username) caused in the current window, for rate limits and lockouts.

Counts live in Django's cache, which every web worker shares when the cache is a shared
store (database or Redis). The window's start is part of the key, so an expiry that
outlives the window cannot stretch it. Redis counts atomically; the database backend's
incr() is a read and a write, so two requests at the same instant may count once: a
limit may let a few more through, never fewer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Window:
    """At most `limit` events per subject in each fixed window of `seconds`."""

    name: str
    limit: int
    seconds: int

    def count(self, subject: str, *, now: dt.datetime) -> int:
        """Count one event of `subject` in the current window; return the window's count."""
        key = self._key(subject, now)
        timeout = self.seconds + 1
        # add() is a no-op when the key exists, so concurrent first events both count.
        cache.add(key, 0, timeout=timeout)
        try:
            count = int(cache.incr(key))
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=timeout)
            return 1
        # The database backend's incr() is a get and a set with the default timeout
        # (300 s), shorter than a lockout window: give the count its window back.
        cache.touch(key, timeout)
        return count

    def current(self, subject: str, *, now: dt.datetime) -> int:
        """Return how many events of `subject` the current window holds."""
        return int(cache.get(self._key(subject, now), 0))

    def exceeded(self, subject: str, *, now: dt.datetime) -> bool:
        """Count one event and tell whether it goes over the limit."""
        return self.count(subject, now=now) > self.limit

    def reached(self, subject: str, *, now: dt.datetime) -> bool:
        """Tell, without counting, whether `subject` has used up the current window."""
        return self.current(subject, now=now) >= self.limit

    def retry_after(self, *, now: dt.datetime) -> int:
        """Return the seconds [s] until the current window ends (at least 1)."""
        elapsed = now.timestamp() % self.seconds
        return max(1, math.ceil(self.seconds - elapsed))

    def _key(self, subject: str, now: dt.datetime) -> str:
        start = int(now.timestamp()) // self.seconds
        # Subjects come from the request: hash them into a key any backend accepts.
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return f"limit:{self.name}:{start}:{digest}"
