"""The settlement worker: run queued jobs until stopped (SIGTERM or Ctrl-C)."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone

from cer.core.heartbeat import SETTLEMENT, beat
from cer.settlement.jobs import claim_next_job, execute_job


class Command(BaseCommand):
    help = "Run queued settlement jobs (production worker; set SETTLEMENT_JOBS_IN_PROCESS=False)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run what is queued, then stop")
        parser.add_argument("--poll", type=float, default=5.0, help="seconds between polls")

    def handle(self, *args: Any, **options: Any) -> None:
        self._stop = False
        signal.signal(signal.SIGTERM, self._request_stop)
        try:
            while not self._stop:
                if not connection.in_atomic_block:
                    close_old_connections()
                beat(SETTLEMENT, timezone.now())
                job = claim_next_job(now=timezone.now())
                if job is None:
                    if options["once"]:
                        return
                    time.sleep(options["poll"])
                    continue
                done = execute_job(
                    job_id=job.pk, now=job.started_at or timezone.now(), claimed=True
                )
                self.stdout.write(f"job {done.pk}: {done.status} {done.error}".rstrip())
        except KeyboardInterrupt:
            return

    def _request_stop(self, *_args: Any) -> None:
        self._stop = True
