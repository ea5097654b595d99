"""Signs of life of the long-running processes, read by the health check.

The ingestion worker, the settlement worker and the scheduler call `beat(name, now)` in
their loops. A beat upserts one `Heartbeat` row per process name (when, on which host,
which pid); `/healthz` reports a process as down when its row is older than two minutes.
The loops may turn many times a second, so `beat` writes at most once every
`BEAT_INTERVAL` per name and process: the caller's change stays one line, and a busy
worker does not write a row per batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket

from django.db import DatabaseError, IntegrityError, transaction

logger = logging.getLogger(__name__)

# Well under the health check's two minutes, so one late beat does not look like a death.
BEAT_INTERVAL = dt.timedelta(seconds=30)

# Process names the deployment can expect (HEALTH_EXPECT) and the health check reads.
INGEST = "ingest"
SCHEDULER = "scheduler"
SETTLEMENT = "settlement"
# A Celery worker, beating when it runs the scheduler's `worker_heartbeat` task.
WORKER = "worker"

_last_beat: dict[str, dt.datetime] = {}


def beat(process_name: str, now: dt.datetime) -> bool:
    """Record that `process_name` is alive at `now` (at most once per BEAT_INTERVAL).

    Returns True when a row was written. A database error is logged and swallowed:
    a missed beat must never stop the worker that sends it.
    """
    last = _last_beat.get(process_name)
    if last is not None and dt.timedelta(0) <= now - last < BEAT_INTERVAL:
        return False
    from cer.core.models import Heartbeat

    fields = {"last_beat_at": now, "host": socket.gethostname()[:255], "pid": os.getpid()}
    try:
        # A savepoint: a failed write must not break a transaction the caller holds.
        with transaction.atomic():
            if not Heartbeat.objects.filter(name=process_name).update(**fields):
                try:
                    with transaction.atomic():
                        Heartbeat.objects.create(name=process_name, **fields)
                except IntegrityError:  # another process of the same name created it
                    Heartbeat.objects.filter(name=process_name).update(**fields)
    except DatabaseError:
        logger.warning("could not record the heartbeat of %s", process_name, exc_info=True)
        return False
    _last_beat[process_name] = now
    return True


def forget() -> None:
    """Drop the throttle's memory (tests, and a process that forks)."""
    _last_beat.clear()
