"""Replace the database and the uploaded files with a backup (see docs/backup.md)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cer.core.backup import (
    BackupError,
    cipher_for,
    find_media_archive,
    media_archive_of,
    opened_backup,
    restore_database,
    restore_media,
    verify_media,
)


class Command(BaseCommand):
    help = (
        "Restore the database, and MEDIA_ROOT from <file>.media.tar.gz[.enc] when present, "
        "from a backup made by `manage.py backup`; existing data and files are lost. "
        "Encrypted backups are read with BACKUP_ENCRYPTION_KEY."
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
        media = find_media_archive(source)
        try:
            cipher = cipher_for(settings.BACKUP_ENCRYPTION_KEY)
            with ExitStack() as stack:
                # Decrypt and check both files before the database is touched: a wrong
                # key or a damaged archive must leave the current data and files alone.
                database = stack.enter_context(opened_backup(source, cipher=cipher))
                archive = (
                    stack.enter_context(opened_backup(media, cipher=cipher)) if media else None
                )
                if archive is not None:
                    verify_media(source=archive)
                restore_database(source=database)
                if archive is not None:
                    restore_media(source=archive, media_root=Path(settings.MEDIA_ROOT))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"restored {source}")
        if media is not None:
            self.stdout.write(f"restored {media} into {settings.MEDIA_ROOT}")
        else:
            self.stderr.write(
                f"{media_archive_of(source)} not found: the uploaded files were left as they are"
            )
