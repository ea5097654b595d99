"""The Celery app as the worker tests start it: the project's app, plus a slow settlement.

With SLOW_SETTLEMENT_S set, the worker sleeps that long before each month's computation,
so that a test can kill it in the middle of a task.
"""

from __future__ import annotations

import os
import time
from typing import Any

from celery import signals

from config.celery import app

__all__ = ["app"]


@signals.task_prerun.connect
def _slow_settlement(task: Any = None, **_kwargs: Any) -> None:
    delay = float(os.environ.get("SLOW_SETTLEMENT_S", "0"))
    if not delay or task is None or task.name != "cer.settlement.tasks.settle_month":
        return
    from cer.settlement import jobs

    if getattr(jobs.compute_month, "slowed", False):
        return
    original = jobs.compute_month

    def slow(**kwargs: Any) -> Any:
        time.sleep(delay)
        return original(**kwargs)

    slow.slowed = True  # type: ignore[attr-defined]
    jobs.compute_month = slow
