"""The Celery application: background tasks on Redis, schedules from django-celery-beat.

Workers start with `celery -A config worker`, the scheduler with `celery -A config beat`
(docs/tasks.md). Every setting is in config/settings.py under the CELERY_ prefix. When a
worker or the scheduler starts, the default schedules of the declared periodic jobs are
created (cer.core.schedules: idempotent, never overwriting an admin's edit).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

from cer.core import task_metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cercollettiva")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Counts and durations of every task, for /metrics (weak=False: module-level functions).
signals.task_prerun.connect(task_metrics.task_started, weak=False)
signals.task_postrun.connect(task_metrics.task_ended, weak=False)


@signals.worker_ready.connect
def _worker_ready(**_kwargs: Any) -> None:
    from cer.core.schedules import sync_schedules

    sync_schedules()


@signals.beat_init.connect
def _beat_init(**_kwargs: Any) -> None:
    from cer.core.schedules import sync_schedules

    sync_schedules()
