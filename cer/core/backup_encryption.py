"""Encrypted backup files: Fernet in chunks, so a database of any size never sits in memory.

Layout: the line `CERBACKUP-FERNET-1`, then records of a 4-byte big-endian length and
a Fernet token (its raw bytes, not base64). Each token holds an 8-byte chunk number, a
byte saying whether it is the last chunk, and up to CHUNK_BYTES of the file. Fernet
authenticates each token; the numbers and the last-chunk mark make a reordered, cut or
extended file fail too.
"""

from __future__ import annotations

import base64
import struct
from pathlib import Path
from typing import BinaryIO

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

MAGIC = b"CERBACKUP-FERNET-1\n"
CHUNK_BYTES = 4 << 20
_LENGTH = struct.Struct(">I")
_HEADER = struct.Struct(">Q?")


class BackupKeyError(Exception):
    """The key is missing, malformed or not the one the file was encrypted with."""


class DamagedBackup(Exception):
    """The encrypted file is cut, reordered or otherwise not as it was written."""


def backup_cipher(keys: str) -> MultiFernet | None:
    """Return the cipher for BACKUP_ENCRYPTION_KEY (comma-separated Fernet keys), or None.

    The first key encrypts; every key decrypts, so keys can be rotated. Raises
    BackupKeyError for a malformed key.
    """
    parts = [key.strip() for key in keys.split(",") if key.strip()]
    if not parts:
        return None
    try:
        return MultiFernet([Fernet(key.encode()) for key in parts])
    except ValueError:
        raise BackupKeyError(
            "BACKUP_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64 bytes)"
        ) from None


def is_encrypted(path: Path) -> bool:
    """Tell whether `path` starts like a file written by encrypt_file."""
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def encrypt_file(*, source: Path, output: Path, cipher: MultiFernet) -> None:
    """Write `source` to the existing (private) file `output`, encrypted chunk by chunk."""
    with source.open("rb") as plain, output.open("r+b") as sealed:
        sealed.truncate(0)
        sealed.write(MAGIC)
        number = 0
        chunk = plain.read(CHUNK_BYTES)
        while True:
            following = plain.read(CHUNK_BYTES)
            last = not following
            token = cipher.encrypt(_HEADER.pack(number, last) + chunk)
            raw = base64.urlsafe_b64decode(token)
            sealed.write(_LENGTH.pack(len(raw)) + raw)
            if last:
                return
            chunk, number = following, number + 1


def decrypt_file(*, source: Path, output: Path, cipher: MultiFernet | None) -> None:
    """Write the clear contents of the encrypted `source` to the existing file `output`.

    Raises BackupKeyError without a key or with the wrong one, DamagedBackup when the
    file was altered after the first chunk.
    """
    if cipher is None:
        raise BackupKeyError(f"{source} is encrypted: set BACKUP_ENCRYPTION_KEY to its key")
    with source.open("rb") as sealed, output.open("r+b") as plain:
        plain.truncate(0)
        if sealed.read(len(MAGIC)) != MAGIC:
            raise DamagedBackup(f"{source} is not an encrypted backup")
        number = 0
        while True:
            token = _read_token(sealed, source)
            try:
                clear = cipher.decrypt(base64.urlsafe_b64encode(token))
            except InvalidToken:
                if number == 0:
                    raise BackupKeyError(
                        f"{source} cannot be decrypted with BACKUP_ENCRYPTION_KEY: "
                        "wrong key, or the file is damaged"
                    ) from None
                raise DamagedBackup(f"{source}: chunk {number} is damaged") from None
            if len(clear) < _HEADER.size:
                raise DamagedBackup(f"{source}: chunk {number} is too short")
            found, last = _HEADER.unpack_from(clear)
            if found != number:
                raise DamagedBackup(f"{source}: chunk {number} is out of place")
            plain.write(clear[_HEADER.size :])
            if last:
                break
            number += 1
        if sealed.read(1):
            raise DamagedBackup(f"{source} has data after its last chunk")


def _read_token(sealed: BinaryIO, source: Path) -> bytes:
    prefix = sealed.read(_LENGTH.size)
    if len(prefix) < _LENGTH.size:
        raise DamagedBackup(f"{source} is cut short")
    (length,) = _LENGTH.unpack(prefix)
    if length > 2 * CHUNK_BYTES:
        raise DamagedBackup(f"{source} has a chunk of impossible size")
    token = sealed.read(length)
    if len(token) < length:
        raise DamagedBackup(f"{source} is cut short")
    return token
