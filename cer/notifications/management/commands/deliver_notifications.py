"""The notification sender: run the periodic checks and send what is due, until stopped."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone

from cer.notifications.delivery import deliver_due
from cer.notifications.hooks import run_periodic_checks


class Command(BaseCommand):
    help = (
        "Send due notifications (e-mail, digests), retrying failures with back-off, and run "
        "the periodic checks that notify (devices gone silent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then stop")
        parser.add_argument("--poll", type=float, default=30.0, help="seconds between rounds")
        parser.add_argument(
            "--checks-every",
            type=float,
            default=3600.0,
            help="seconds between runs of the periodic checks",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._stop = False
        signal.signal(signal.SIGTERM, self._request_stop)
        last_checks = float("-inf")
        try:
            while not self._stop:
                if not connection.in_atomic_block:
                    close_old_connections()
                if time.monotonic() - last_checks >= options["checks_every"]:
                    last_checks = time.monotonic()
                    for code, count in run_periodic_checks(timezone.now()).items():
                        if count:
                            self.stdout.write(f"check {code}: {count}")
                report = deliver_due(timezone.now())
                if report.sent or report.failed or report.permanent:
                    self.stdout.write(
                        f"sent {report.sent}, retrying {report.failed}, "
                        f"failed for good {report.permanent}"
                    )
                if options["once"]:
                    return
                time.sleep(options["poll"])
        except KeyboardInterrupt:
            return

    def _request_stop(self, *_args: Any) -> None:
        self._stop = True
