"""Look inside an uploaded ZIP container (DOCX, ODT) without letting it expand in memory.

A ZIP of a few hundred kilobytes can declare, and really hold, gigabytes of zeros. The
archive is checked before anything of it is kept: how many entries it has, how much it
declares and how much it really expands to (in total and per entry, against its
compressed size), with every entry read in small chunks and the reading stopped as soon
as a limit is crossed. Only the first bytes of the entries a caller asks for are kept.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

MAX_ENTRIES = 1000
# Office files compress text by 5 to 20 times; a ratio above 100 is a bomb's signature.
MAX_RATIO = 100
# A small entry may compress very well (a page of spaces): the ratio counts only above this.
RATIO_GRACE_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024
HEAD_BYTES = 256
# Every entry of the central directory starts with this signature: counting it bounds
# the entries before zipfile builds an object for each of them.
_CENTRAL_ENTRY = b"PK\x01\x02"
# Office formats use only these; bzip2 and LZMA would expand a whole chunk at once.
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


class ArchiveRefused(Exception):
    """Raised when an archive crosses a limit; `message` says which, for the `file` field."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class ArchiveSummary:
    names: frozenset[str]
    heads: dict[str, bytes]


def inspect_zip(
    content: bytes, *, max_bytes: int, heads: tuple[str, ...] = ()
) -> ArchiveSummary | None:
    """Read every entry of the ZIP `content` in chunks and return its names and some heads.

    `max_bytes` [bytes] caps what the entries declare and what they really expand to, in
    total; `heads` names the entries whose first HEAD_BYTES bytes are returned. Returns
    None for a damaged, encrypted or otherwise unreadable archive. Raises ArchiveRefused
    when it has more than MAX_ENTRIES entries, expands beyond `max_bytes`, or an entry
    expands more than MAX_RATIO times.
    """
    if content.count(_CENTRAL_ENTRY) > MAX_ENTRIES:
        raise _too_many_entries()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            _check_declared(entries, max_bytes=max_bytes)
            if any(e.compress_type not in _METHODS or e.flag_bits & 0x1 for e in entries):
                return None
            kept: dict[str, bytes] = {}
            total = 0
            for entry in entries:
                size, head = _read_entry(archive, entry, already=total, max_bytes=max_bytes)
                total += size
                if entry.filename in heads:
                    kept[entry.filename] = head
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError):
        return None
    return ArchiveSummary(names=frozenset(e.filename for e in entries), heads=kept)


def _check_declared(entries: list[zipfile.ZipInfo], *, max_bytes: int) -> None:
    if len(entries) > MAX_ENTRIES:
        raise _too_many_entries()
    if sum(entry.file_size for entry in entries) > max_bytes:
        raise _too_large(max_bytes)
    for entry in entries:
        if _inflated(entry.file_size, entry.compress_size):
            raise _too_compressed()


def _read_entry(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, *, already: int, max_bytes: int
) -> tuple[int, bytes]:
    """Read `entry` in chunks and return its real size [bytes] and its first bytes.

    `already` [bytes] is what the entries before it expanded to.
    """
    size = 0
    head = b""
    with archive.open(entry) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            size += len(chunk)
            if already + size > max_bytes:
                raise _too_large(max_bytes)
            if _inflated(size, entry.compress_size):
                raise _too_compressed()
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
    return size, head


def _inflated(size: int, compressed: int) -> bool:
    return size > RATIO_GRACE_BYTES and size > MAX_RATIO * max(compressed, 1)


def _too_many_entries() -> ArchiveRefused:
    return ArchiveRefused(
        _("The archive holds more than %(count)s files.") % {"count": MAX_ENTRIES}
    )


def _too_large(max_bytes: int) -> ArchiveRefused:
    return ArchiveRefused(
        _("The archive expands beyond %(limit)s MB.")
        % {"limit": f"{max_bytes / (1024 * 1024):.0f}"}
    )


def _too_compressed() -> ArchiveRefused:
    return ArchiveRefused(
        _("A file in the archive is compressed more than %(ratio)s times: refused as unsafe.")
        % {"ratio": MAX_RATIO}
    )
