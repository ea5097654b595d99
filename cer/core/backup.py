"""Consistent database backups and restores, for SQLite and PostgreSQL.

SQLite is copied with its online backup API, page by page, while the application
runs; PostgreSQL is dumped with pg_dump in its custom format and restored in one
transaction, pg_restore --clean writing the script that psql runs. Uploaded files
(MEDIA_ROOT) go to a tar.gz next to the dump. Each file gets a `.sha256` file next to it,
checked on restore.

Backups hold names, addresses and e-mails: every file is created readable by its owner
only (0600) and a folder made for them is 0700. With BACKUP_ENCRYPTION_KEY they are
also encrypted (cer.core.backup_encryption); the clear copy in between is a private
temporary file next to the output, removed at once.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from cryptography.fernet import MultiFernet
from django.db import connections

from cer.core.backup_encryption import (
    BackupKeyError,
    DamagedBackup,
    backup_cipher,
    decrypt_file,
    encrypt_file,
    is_encrypted,
)

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
ENCRYPTED_SUFFIX = ".enc"


class BackupError(Exception):
    """The backup or restore could not be made; the message says why."""


def _vendor(alias: str) -> str:
    return connections[alias].vendor


def cipher_for(keys: str) -> MultiFernet | None:
    """Return the cipher of BACKUP_ENCRYPTION_KEY, None when it is empty. Raises BackupError."""
    try:
        return backup_cipher(keys)
    except BackupKeyError as error:
        raise BackupError(str(error)) from error


def private_folder(path: Path) -> None:
    """Create `path` (and missing parents) if needed; a folder created here is 0700."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(PRIVATE_FOLDER)


def _private_file(path: Path) -> None:
    """Create `path` empty and readable by its owner only, or empty an existing one."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.close(descriptor)
    # os.open's mode applies to new files only.
    path.chmod(PRIVATE_FILE)


@contextmanager
def _scratch_file(folder: Path) -> Iterator[Path]:
    """Yield a private temporary file in `folder` (mkstemp makes it 0600), then remove it."""
    descriptor, name = tempfile.mkstemp(prefix=".cer-backup-", dir=folder)
    os.close(descriptor)
    scratch = Path(name)
    try:
        yield scratch
    finally:
        for leftover in (scratch, *(Path(f"{scratch}{tail}") for tail in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)


def _write_private(output: Path, cipher: MultiFernet | None, write: Callable[[Path], None]) -> str:
    """Have `write` fill a private file, encrypt it into `output` if asked; return the digest."""
    private_folder(output.parent)
    _private_file(output)
    if cipher is None:
        write(output)
    else:
        with _scratch_file(output.parent) as clear:
            write(clear)
            encrypt_file(source=clear, output=output, cipher=cipher)
    return _write_digest(output)


@contextmanager
def opened_backup(source: Path, *, cipher: MultiFernet | None) -> Iterator[Path]:
    """Check `source` against its `.sha256` file and yield a clear copy to read.

    An encrypted file is decrypted into a private temporary file beside it, removed on
    exit; a clear file is yielded as it is. Raises BackupError (missing, damaged, no key
    or the wrong key).
    """
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    _verify_digest(source)
    if not is_encrypted(source):
        yield source
        return
    with _scratch_file(source.parent) as clear:
        try:
            decrypt_file(source=source, output=clear, cipher=cipher)
        except (BackupKeyError, DamagedBackup) as error:
            raise BackupError(str(error)) from error
        yield clear


def _refuse_encrypted(source: Path) -> None:
    if is_encrypted(source):
        raise BackupError(f"{source} is encrypted: open it with opened_backup() first")


def pg_binary(name: str) -> str:
    """Return the newest pg_dump, pg_restore or psql: Debian's versioned folders, then PATH."""
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
    sidecar = Path(f"{path}.sha256")
    _private_file(sidecar)
    sidecar.write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    return digest


def _verify_digest(path: Path) -> None:
    sidecar = Path(f"{path}.sha256")
    if sidecar.is_file():
        expected = sidecar.read_text(encoding="utf-8").split()[0]
        if expected != file_digest(path):
            raise BackupError(f"{path} does not match its checksum: the file is damaged")


def media_archive_of(database_backup: Path, *, encrypted: bool = False) -> Path:
    """Return where the uploaded files of a database backup are archived."""
    return Path(f"{database_backup}.media.tar.gz{ENCRYPTED_SUFFIX if encrypted else ''}")


def find_media_archive(database_backup: Path) -> Path | None:
    """Return the media archive written beside a database backup, encrypted or not, if any."""
    for encrypted in (True, False):
        candidate = media_archive_of(database_backup, encrypted=encrypted)
        if candidate.exists():
            return candidate
    return None


def backup_media(*, output: Path, media_root: Path, cipher: MultiFernet | None = None) -> str:
    """Archive every file under `media_root` into the tar.gz `output`; return its SHA-256.

    A missing MEDIA_ROOT gives an empty archive: a fresh installation has no uploads yet.
    With a cipher the archive is encrypted.
    """

    def write(target: Path) -> None:
        with tarfile.open(target, "w:gz") as archive:
            if media_root.is_dir():
                for path in sorted(media_root.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        archive.add(path, arcname=path.relative_to(media_root).as_posix())

    return _write_private(output, cipher, write)


def verify_media(*, source: Path) -> None:
    """Check the archive against its `.sha256` file and that it opens. Raises BackupError."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    _verify_digest(source)
    _refuse_encrypted(source)
    try:
        with tarfile.open(source, "r:gz") as archive:
            archive.getmembers()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"{source} is not a readable tar.gz archive: {error}") from error


def restore_media(*, source: Path, media_root: Path) -> None:
    """Replace the contents of `media_root` with the archive `source`.

    The archive is unpacked beside MEDIA_ROOT first and swapped in only when complete,
    so a failed unpacking leaves the current files. Members that would land outside the
    folder (absolute paths, `..`, links) are refused by tarfile's `data` filter. The
    restored files are private like uploads: 0600, folders 0700.
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
    _make_private(staging)
    previous = media_root.with_name(f"{staging.name}-previous")
    if media_root.exists():
        media_root.rename(previous)
    staging.rename(media_root)
    shutil.rmtree(previous, ignore_errors=True)


def _make_private(root: Path) -> None:
    """Give restored files the modes of uploads (0600, folders 0700), whatever the archive said."""
    root.chmod(PRIVATE_FOLDER)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        path.chmod(PRIVATE_FOLDER if path.is_dir() else PRIVATE_FILE)


def backup_database(
    *, output: Path, alias: str = "default", cipher: MultiFernet | None = None
) -> str:
    """Write a consistent copy of the database to `output`; return its SHA-256.

    With a cipher the copy is encrypted. Raises BackupError.
    """
    vendor = _vendor(alias)
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"backups of {vendor} databases are not supported")
    writers = {"sqlite": _copy_sqlite, "postgresql": _dump_postgresql}
    return _write_private(output, cipher, lambda target: writers[vendor](target, alias))


def _copy_sqlite(target: Path, alias: str) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        # The live database runs in WAL mode; the copy is one self-contained file.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()


def _dump_postgresql(target: Path, alias: str) -> None:
    connection = connections[alias]
    arguments, environment = _pg_arguments(connection.settings_dict)
    command = [
        pg_binary("pg_dump"),
        "--format=custom",
        "--no-owner",
        "--file",
        str(target),
        *arguments,
        connection.settings_dict["NAME"],
    ]
    result = subprocess.run(  # noqa: S603 (fixed program, no shell)
        command, env=environment, capture_output=True, text=True, check=False, umask=0o077
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def make_database_file_private(alias: str = "default") -> None:
    """Make an SQLite database file (and its WAL files) readable by its owner only."""
    if _vendor(alias) != "sqlite":
        return
    name = str(connections[alias].settings_dict["NAME"])
    for path in (Path(name), Path(f"{name}-wal"), Path(f"{name}-shm")):
        if path.is_file():
            path.chmod(PRIVATE_FILE)


def _partitioned_tables(alias: str) -> list[str]:
    """Return the partitioned tables (the readings by month) of the current schema."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'p' AND n.nspname = current_schema()"
        )
        return [row[0] for row in cursor.fetchall()]


def _restore_postgresql(source: Path, alias: str) -> None:
    """Run the dump's script in one transaction, the partitioned tables dropped first.

    pg_restore --clean drops each object of the dump, and a partition's constraints are
    inherited from its parent: PostgreSQL refuses to drop them one by one ("cannot drop
    inherited constraint"). So the parents are dropped with their partitions first, in
    the same transaction as the script pg_restore writes, which psql runs: a restore that
    fails at any point, pg_restore's reading included, leaves the database as it was.
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    drops = "".join(
        f"DROP TABLE IF EXISTS {quote(name)} CASCADE;\n" for name in _partitioned_tables(alias)
    )
    connection.close()
    arguments, environment = _pg_arguments(connection.settings_dict)
    script_command = [
        pg_binary("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--file",
        "-",
        str(source),
    ]
    psql_command = [
        pg_binary("psql"),
        "--no-psqlrc",
        "--quiet",
        "--single-transaction",
        "--set",
        "ON_ERROR_STOP=1",
        *arguments,
        "--dbname",
        connection.settings_dict["NAME"],
        "--file",
        "-",
    ]
    with tempfile.TemporaryFile() as script_errors, tempfile.TemporaryFile() as psql_errors:
        psql = subprocess.Popen(  # noqa: S603 (fixed program, no shell)
            psql_command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=environment,
        )
        script = subprocess.Popen(  # noqa: S603 (fixed program, no shell)
            script_command, stdout=subprocess.PIPE, stderr=script_errors, env=environment
        )
        assert psql.stdin is not None and script.stdout is not None
        # A broken pipe means psql stopped at an error: its message says which.
        with suppress(BrokenPipeError):
            psql.stdin.write(drops.encode())
            shutil.copyfileobj(script.stdout, psql.stdin, 1 << 20)
        if script.wait() != 0:
            # psql commits at the end of its input: it must never see the end of a
            # script cut short. Ending it mid-transaction rolls everything back.
            psql.kill()
            psql.wait()
            script_errors.seek(0)
            raise BackupError(f"pg_restore failed: {script_errors.read().decode().strip()}")
        with suppress(BrokenPipeError):
            psql.stdin.close()
        if psql.wait() != 0:
            psql_errors.seek(0)
            raise BackupError(f"restore failed: {psql_errors.read().decode().strip()}")


def restore_database(*, source: Path, alias: str = "default") -> None:
    """Replace the database's contents with the backup in `source`.

    Checks the `.sha256` file when there is one. Raises BackupError.
    """
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    _verify_digest(source)
    _refuse_encrypted(source)
    connection = connections[alias]
    if _vendor(alias) == "sqlite":
        connection.ensure_connection()
        origin = sqlite3.connect(source)
        try:
            origin.backup(connection.connection)
        finally:
            origin.close()
        make_database_file_private(alias)
    elif _vendor(alias) == "postgresql":
        _restore_postgresql(source, alias)
    else:
        raise BackupError(f"restores of {_vendor(alias)} databases are not supported")
