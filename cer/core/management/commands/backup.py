"""Write a consistent backup of the database and of the uploaded files (see docs/backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from cer.core.backup import (
    ENCRYPTED_SUFFIX,
    BackupError,
    backup_database,
    backup_media,
    cipher_for,
    media_archive_of,
    private_folder,
)


class Command(BaseCommand):
    help = (
        "Back up the database to a file (SQLite copy or pg_dump custom format) and "
        "MEDIA_ROOT to <file>.media.tar.gz; files are private (0600) and encrypted when "
        "BACKUP_ENCRYPTION_KEY is set."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="File to write; default var/backups/cercollettiva-<UTC time>.<ext>[.enc].",
        )
        parser.add_argument(
            "--encrypt",
            action="store_true",
            help="Refuse to write a clear backup: fail when BACKUP_ENCRYPTION_KEY is not set.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cipher = cipher_for(settings.BACKUP_ENCRYPTION_KEY)
        except BackupError as error:
            raise CommandError(str(error)) from error
        if options["encrypt"] and cipher is None:
            raise CommandError("--encrypt needs BACKUP_ENCRYPTION_KEY (a Fernet key)")
        encrypted = cipher is not None
        output = options["output"]
        if output is None:
            extension = "sqlite3" if connection.vendor == "sqlite" else "dump"
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            folder = Path(settings.BASE_DIR) / "var" / "backups"
            private_folder(folder)
            # The default folder belongs to the backups: private even if it existed before.
            folder.chmod(0o700)
            suffix = ENCRYPTED_SUFFIX if encrypted else ""
            output = folder / f"cercollettiva-{stamp}.{extension}{suffix}"
        media = media_archive_of(output, encrypted=encrypted)
        try:
            digest = backup_database(output=output, cipher=cipher)
            media_digest = backup_media(
                output=media, media_root=Path(settings.MEDIA_ROOT), cipher=cipher
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        state = "encrypted" if encrypted else "not encrypted"
        self.stdout.write(f"{output} sha256={digest} ({state})")
        self.stdout.write(f"{media} sha256={media_digest} ({state})")
