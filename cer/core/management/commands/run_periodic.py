"""The scheduler: run the periodic jobs every app registers, round after round, until stopped."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from cer.core.heartbeat import SCHEDULER, beat
from cer.core.periodic import all_jobs, run_due


class Command(BaseCommand):
    help = (
        "Run the periodic jobs (notifications, checks, alerts, housekeeping) when due; "
        "`make run` starts it beside the web server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then stop")
        parser.add_argument("--tick", type=float, default=15.0, help="seconds between rounds")
        parser.add_argument("--job", action="append", help="run only this job (repeatable)")
        parser.add_argument("--list", action="store_true", help="list the jobs and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for job in all_jobs():
                self.stdout.write(f"{job.name}\tevery {job.every}")
            return
        self._stop = False
        signal.signal(signal.SIGTERM, self._request_stop)
        only = set(options["job"]) if options["job"] else None
        try:
            while not self._stop:
                close_old_connections()
                beat(SCHEDULER, timezone.now())
                for outcome in run_due(timezone.now(), only=only):
                    if outcome.error:
                        self.stderr.write(f"{outcome.name}: {outcome.error}")
                    elif outcome.result:
                        self.stdout.write(f"{outcome.name}: {outcome.result}")
                if options["once"]:
                    return
                time.sleep(options["tick"])
        except KeyboardInterrupt:
            return

    def _request_stop(self, *_args: Any) -> None:
        self._stop = True
