"""Replace the database and the uploaded files with a backup (see docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cer.core.backup import (
    BackupError,
    media_archive_of,
    restore_database,
    restore_media,
    verify_media,
)


class Command(BaseCommand):
    help = (
        "Restore the database, and MEDIA_ROOT from <file>.media.tar.gz when present, from a "
        "backup made by `manage.py backup`; existing data and files are lost."
    )

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
        media = media_archive_of(source)
        try:
            # Check the file archive before the database is touched: a damaged archive
            # must not leave a restored database beside the wrong files.
            if media.exists():
                verify_media(source=media)
            restore_database(source=source)
            if media.exists():
                restore_media(source=media, media_root=Path(settings.MEDIA_ROOT))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"restored {source}")
        if media.exists():
            self.stdout.write(f"restored {media} into {settings.MEDIA_ROOT}")
        else:
            self.stderr.write(f"{media} not found: the uploaded files were left as they are")
