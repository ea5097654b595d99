"""Replace the database's contents with a backup (see docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cer.core.backup import BackupError, restore_database


class Command(BaseCommand):
    help = "Restore the database from a backup made by `manage.py backup`; existing data is lost."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("source", type=Path)
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation (scripts)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["source"]
        if not options["yes"]:
            answer = input(f"Replace ALL data with {source}? Type 'restore' to go on: ")
            if answer.strip() != "restore":
                raise CommandError("restore cancelled")
        try:
            restore_database(source=source)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"restored {source}")
