"""Estimate a month's missing hours of one point or of every point of one configuration."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cer.metering.profiles import estimate_gaps
from cer.plants.models import ConnectionPoint
from cercalc import periods


class Command(BaseCommand):
    help = (
        "Write EST readings for the hours of a Europe/Rome month that have no reading, from "
        "the point's average days (docs/algorithms/profiles.md). A rerun writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--point", type=int, help="one connection point id")
        target.add_argument("--configuration", type=int, help="every point of a configuration")
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--dry-run", action="store_true", help="count, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = periods.parse(options["month"])
        except ValueError:
            raise CommandError("--month must be YYYY-MM") from None
        if not month.is_month:
            raise CommandError("--month must be YYYY-MM")
        points = ConnectionPoint.objects.select_related("configuration__community").order_by("pk")
        if options["point"] is not None:
            points = points.filter(pk=options["point"])
            if not points.exists():
                raise CommandError(f"no connection point {options['point']}")
        else:
            points = points.filter(configuration_id=options["configuration"])
            if not points.exists():
                raise CommandError(
                    f"no connection point in configuration {options['configuration']}"
                )
        outcome = estimate_gaps(
            points=list(points), month=month, now=timezone.now(), dry_run=options["dry_run"]
        )
        verb = "would write" if options["dry_run"] else "wrote"
        rows = outcome.estimated_hours if options["dry_run"] else outcome.written_rows
        self.stdout.write(
            f"{month.key}: estimated {outcome.estimated_hours} hours, could not estimate "
            f"{outcome.not_estimated_hours}; {verb} {rows} readings"
        )
