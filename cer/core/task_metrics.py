"""Counts and durations of the background tasks, kept in Redis for /metrics.

Each worker process adds, when a task ends, one to the count of its task name and final
state and its duration to the task's total time, in two Redis hashes: every worker on
every machine adds to the same figures, and any web process reads them at scrape time
(cer.core.metrics). A Redis error here is logged and dropped: figures must never fail a
task. The signal handlers are connected by config/celery.py.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

COUNTS_KEY = "cer:tasks:count"  # field "<task>|<state>" -> number of tasks
SECONDS_KEY = "cer:tasks:seconds"  # field "<task>" -> seconds spent, summed
TIMEOUT_S = 2.0

_started: dict[str, float] = {}


def client() -> Any:
    """A Redis client on REDIS_URL that gives up within two seconds."""
    import redis

    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
    )


def task_started(task_id: str | None = None, **_kwargs: Any) -> None:
    if task_id:
        _started[task_id] = time.monotonic()


def task_ended(
    task_id: str | None = None, task: Any = None, state: str | None = None, **_kwargs: Any
) -> None:
    began = _started.pop(task_id or "", None)
    if task is None or began is None:
        return
    record(task.name, str(state or "UNKNOWN"), time.monotonic() - began)


def record(name: str, state: str, seconds: float) -> None:
    """Add one task's end to the shared figures."""
    import redis

    try:
        connection = client()
        try:
            pipe = connection.pipeline()
            pipe.hincrby(COUNTS_KEY, f"{name}|{state}", 1)
            pipe.hincrbyfloat(SECONDS_KEY, name, seconds)
            pipe.execute()
        finally:
            connection.close()
    except redis.RedisError:
        logger.warning("could not record the figures of task %s", name, exc_info=True)


def queue_length() -> int | None:
    """Tasks waiting in the default queue (None when Redis cannot be read)."""
    import redis

    try:
        connection = client()
        try:
            return int(connection.llen(settings.CELERY_TASK_DEFAULT_QUEUE))
        finally:
            connection.close()
    except redis.RedisError:
        return None


def read() -> tuple[dict[tuple[str, str], int], dict[str, float], dict[str, int]]:
    """(counts by task and state, seconds by task, queue lengths by queue name).

    Raises redis.RedisError when Redis cannot be read.
    """
    connection = client()
    try:
        counts: dict[tuple[str, str], int] = {}
        for field, value in connection.hgetall(COUNTS_KEY).items():
            name, _, state = field.decode().rpartition("|")
            counts[(name, state)] = int(value)
        seconds = {
            field.decode(): float(value) for field, value in connection.hgetall(SECONDS_KEY).items()
        }
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        lengths = {queue: int(connection.llen(queue))}
    finally:
        connection.close()
    return counts, seconds, lengths
