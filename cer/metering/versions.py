"""A version number per community, bumped whenever its readings change.

The dashboards put it in every cache key: a bump makes every cached period of the
community stale at once. The writer (cer.metering.recording.write_hourly) bumps it, and so
does anything else that changes which reading wins (the community's source order).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.cache import caches
from django.db import transaction
from django.db.models import F
from django.utils.connection import ConnectionProxy

from cer.metering.models import ReadingsVersion

# Each process's own memory (the cache the dashboards use for their series too).
cache = ConnectionProxy(caches, "local")

VERSION_SECONDS = 5


def _key(community_id: int) -> str:
    # The key predates the move from the dashboards; a running process keeps its entries.
    return f"dashboards:version:{community_id}"


def readings_version(community_id: int) -> int:
    """Return the community's current readings version (0 before the first bump).

    Each process remembers it for `VERSION_SECONDS`, so a bump reaches every web worker
    within that time while a busy dashboard does not ask the database on every request.
    """
    key = _key(community_id)
    version = cache.get(key)
    if version is None:
        version = (
            ReadingsVersion.objects.filter(community_id=community_id)
            .values_list("version", flat=True)
            .first()
        ) or 0
        cache.set(key, version, VERSION_SECONDS)
    return version


def bump_readings_version(*, community_ids: Iterable[int], now: dt.datetime) -> None:
    """Mark the readings of these communities as changed: their cached series are dropped."""
    with transaction.atomic():
        for community_id in sorted(set(community_ids)):
            updated = ReadingsVersion.objects.filter(community_id=community_id).update(
                version=F("version") + 1, bumped_at=now
            )
            if not updated:
                ReadingsVersion.objects.get_or_create(
                    community_id=community_id, defaults={"version": 1, "bumped_at": now}
                )
            cache.delete(_key(community_id))
