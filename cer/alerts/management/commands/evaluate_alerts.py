"""Evaluate the alert rules now, for every community or one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cer.alerts.services import evaluate
from cer.communities.models import Community


class Command(BaseCommand):
    help = (
        "Run every alert rule (docs/alerts.md): open alerts for new conditions, close those "
        "whose condition cleared. The scheduler runs the same every 15 minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--community", type=int, help="one community id (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        communities = None
        if options["community"] is not None:
            if not Community.objects.filter(pk=options["community"]).exists():
                raise CommandError(f"no community {options['community']}")
            communities = [options["community"]]
        outcome = evaluate(timezone.now(), communities)
        self.stdout.write(f"alerts: {outcome}")
