"""Settle a month for every active configuration, or one: the monthly scheduled job."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cer.settlement.commands import configurations_to_settle
from cer.settlement.jobs import RunAlreadyInProgress, execute_job, request_run
from cer.settlement.models import JobStatus
from cer.settlement.services import MonthNotOver, check_month_over
from cercalc import periods


class Command(BaseCommand):
    help = "Settle a Europe/Rome calendar month (e.g. --month 2025-03), as a job, now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--configuration", type=int, help="one configuration id")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = periods.parse(options["month"])
        except ValueError:
            raise CommandError("--month must be YYYY-MM") from None
        if not period.is_month:
            raise CommandError("--month must be YYYY-MM")
        month = period.start
        try:
            check_month_over(month=month, now=timezone.now())
        except MonthNotOver as error:
            raise CommandError(str(error)) from None
        configurations = configurations_to_settle(options["configuration"])
        failed = False
        for configuration in configurations:
            try:
                # This command runs the job itself, now: no background thread as well.
                job = request_run(
                    configuration=configuration,
                    month=month,
                    actor=None,
                    now=timezone.now(),
                    background=False,
                )
            except RunAlreadyInProgress:
                self.stderr.write(f"{configuration}: a settlement of {month:%Y-%m} is running")
                failed = True
                continue
            job = execute_job(job_id=job.pk, now=timezone.now())
            if job.status == JobStatus.DONE:
                state = "new version" if job.created_new_version else "unchanged"
                self.stdout.write(
                    f"{configuration}: {month:%Y-%m} v{job.run.version} ({state})"  # type: ignore[union-attr]
                )
            else:
                self.stderr.write(f"{configuration}: {job.error}")
                failed = True
        if failed:
            raise CommandError("some configurations were not settled")
