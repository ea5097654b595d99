"""Consistent database backups and restores, for SQLite and PostgreSQL.

SQLite is copied with its online backup API, page by page, while the application
runs; PostgreSQL is dumped with pg_dump in its custom format and restored with
pg_restore --clean. Uploaded files (MEDIA_ROOT) go to a tar.gz next to the dump. Each
file gets a `.sha256` file next to it, checked on restore.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django.db import connections


class BackupError(Exception):
    """The backup or restore could not be made; the message says why."""


def _vendor(alias: str) -> str:
    return connections[alias].vendor


def pg_binary(name: str) -> str:
    """Return the newest pg_dump / pg_restore: Debian's versioned folders first, then PATH."""
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    return found


def _pg_arguments(settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    arguments = []
    if settings_dict.get("HOST"):
        arguments += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        arguments += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        arguments += ["--username", str(settings_dict["USER"])]
    environment = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        environment["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return arguments, environment


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_digest(path: Path) -> str:
    digest = file_digest(path)
    Path(f"{path}.sha256").write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    return digest


def _verify_digest(path: Path) -> None:
    sidecar = Path(f"{path}.sha256")
    if sidecar.is_file():
        expected = sidecar.read_text(encoding="utf-8").split()[0]
        if expected != file_digest(path):
            raise BackupError(f"{path} does not match its checksum: the file is damaged")


def media_archive_of(database_backup: Path) -> Path:
    """Return where the uploaded files of a database backup are archived."""
    return Path(f"{database_backup}.media.tar.gz")


def backup_media(*, output: Path, media_root: Path) -> str:
    """Archive every file under `media_root` into the tar.gz `output`; return its SHA-256.

    A missing MEDIA_ROOT gives an empty archive: a fresh installation has no uploads yet.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(output, "w:gz") as archive:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    archive.add(path, arcname=path.relative_to(media_root).as_posix())
    return _write_digest(output)


def verify_media(*, source: Path) -> None:
    """Check the archive against its `.sha256` file and that it opens. Raises BackupError."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    _verify_digest(source)
    try:
        with tarfile.open(source, "r:gz") as archive:
            archive.getmembers()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"{source} is not a readable tar.gz archive: {error}") from error


def restore_media(*, source: Path, media_root: Path) -> None:
    """Replace the contents of `media_root` with the archive `source`.

    The archive is unpacked beside MEDIA_ROOT first and swapped in only when complete,
    so a failed unpacking leaves the current files. Members that would land outside the
    folder (absolute paths, `..`, links) are refused by tarfile's `data` filter.
    Raises BackupError.
    """
    verify_media(source=source)
    media_root = media_root.resolve()
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=media_root.parent))
    try:
        with tarfile.open(source, "r:gz") as archive:
            archive.extractall(staging, filter="data")
    except (tarfile.TarError, OSError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise BackupError(f"unpacking {source} failed: {error}") from error
    previous = media_root.with_name(f"{staging.name}-previous")
    if media_root.exists():
        # mkdtemp makes a private folder: keep the permissions the folder had.
        staging.chmod(media_root.stat().st_mode & 0o7777)
        media_root.rename(previous)
    staging.rename(media_root)
    shutil.rmtree(previous, ignore_errors=True)


def backup_database(*, output: Path, alias: str = "default") -> str:
    """Write a consistent copy of the database to `output`; return its SHA-256.

    Raises BackupError.
    """
    connection = connections[alias]
    output.parent.mkdir(parents=True, exist_ok=True)
    if _vendor(alias) == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(output)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    elif _vendor(alias) == "postgresql":
        arguments, environment = _pg_arguments(connection.settings_dict)
        command = [
            pg_binary("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--file",
            str(output),
            *arguments,
            connection.settings_dict["NAME"],
        ]
        result = subprocess.run(  # noqa: S603 (fixed program, no shell)
            command, env=environment, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"backups of {_vendor(alias)} databases are not supported")
    return _write_digest(output)


def restore_database(*, source: Path, alias: str = "default") -> None:
    """Replace the database's contents with the backup in `source`.

    Checks the `.sha256` file when there is one. Raises BackupError.
    """
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    _verify_digest(source)
    connection = connections[alias]
    if _vendor(alias) == "sqlite":
        connection.ensure_connection()
        origin = sqlite3.connect(source)
        try:
            origin.backup(connection.connection)
        finally:
            origin.close()
    elif _vendor(alias) == "postgresql":
        connection.close()
        arguments, environment = _pg_arguments(connection.settings_dict)
        command = [
            pg_binary("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            *arguments,
            "--dbname",
            connection.settings_dict["NAME"],
            str(source),
        ]
        result = subprocess.run(  # noqa: S603 (fixed program, no shell)
            command, env=environment, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"restores of {_vendor(alias)} databases are not supported")
