"""The distribution's background task: share out a settled month (docs/tasks.md)."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from cer.core.tasks import TASK_OPTIONS
from cer.distribution.services import distribute_run
from cer.settlement.models import SettlementRun


@shared_task(name="cer.distribution.tasks.distribute", **TASK_OPTIONS)
def distribute(run_id: int, actor_id: int | None = None) -> int:
    """Distribute run `run_id` and return the distribution's id.

    Keyed by the run: `distribute_run` gives back the distribution a run already has, so
    a retried or duplicated task issues the statements once. Its refusals (no policy, a
    newer version) fail the task with their reason, untried again.
    """
    run = SettlementRun.objects.select_related("configuration__community").get(pk=run_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return distribute_run(run=run, actor=actor, now=timezone.now()).pk
