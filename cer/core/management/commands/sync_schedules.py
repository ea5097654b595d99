"""Create the beat scheduler's default entries that are missing (docs/tasks.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cer.core.schedules import sync_schedules


class Command(BaseCommand):
    help = (
        "Create the default schedules (one per periodic job, the heartbeat, backup, gaps, "
        "settlement on the 5th) that do not exist; never changes an existing entry."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        created = sync_schedules()
        for name in created:
            self.stdout.write(f"created {name}")
        self.stdout.write(f"{len(created)} schedule(s) created")
