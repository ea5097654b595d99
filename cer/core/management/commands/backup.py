"""Write a consistent backup of the database and of the uploaded files (see docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from cer.core.backup import BackupError, backup_database, backup_media, media_archive_of


class Command(BaseCommand):
    help = (
        "Back up the database to a file (SQLite copy or pg_dump custom format) and "
        "MEDIA_ROOT to <file>.media.tar.gz."
    )

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
        media = media_archive_of(output)
        try:
            digest = backup_database(output=output)
            media_digest = backup_media(output=media, media_root=Path(settings.MEDIA_ROOT))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{output} sha256={digest}")
        self.stdout.write(f"{media} sha256={media_digest}")
