"""Write a consistent backup of the database (see docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from cer.core.backup import BackupError, backup_database


class Command(BaseCommand):
    help = "Back up the database to a file (SQLite copy or pg_dump custom format)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="File to write; default var/backups/cercollettiva-<UTC time>.<ext>.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = options["output"]
        if output is None:
            extension = "sqlite3" if connection.vendor == "sqlite" else "dump"
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            output = (
                Path(settings.BASE_DIR) / "var" / "backups" / f"cercollettiva-{stamp}.{extension}"
            )
        try:
            digest = backup_database(output=output)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{output} sha256={digest}")
