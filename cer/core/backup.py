"""Consistent database backups and restores, for SQLite and PostgreSQL.

SQLite is copied with its online backup API, page by page, while the application
runs; PostgreSQL is dumped with pg_dump in its custom format and restored with
pg_restore --clean. Each backup gets a `.sha256` file next to it, checked on restore.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import sqlite3
import subprocess
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
    digest = file_digest(output)
    Path(f"{output}.sha256").write_text(f"{digest}  {output.name}\n", encoding="utf-8")
    return digest


def restore_database(*, source: Path, alias: str = "default") -> None:
    """Replace the database's contents with the backup in `source`.

    Checks the `.sha256` file when there is one. Raises BackupError.
    """
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    sidecar = Path(f"{source}.sha256")
    if sidecar.is_file():
        expected = sidecar.read_text(encoding="utf-8").split()[0]
        if expected != file_digest(source):
            raise BackupError(f"{source} does not match its checksum: the file is damaged")
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
