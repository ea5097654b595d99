"""zlib-format compression of stored arrays, by ISA-L where it is installed.

A settled year compresses twelve thousand members' monthly series (cer/settlement/models.py)
and packs twelve thousand point-months of readings (cer/metering/packed.py). Intel's ISA-L
(the `isal` package, wheels for x86-64 and 64-bit ARM) writes the same zlib format about
three times as fast as zlib at level 1, at nearly the same size, reads it back about twice
as fast, and like zlib it works outside the interpreter lock. Where it is missing (a 32-bit
Raspberry Pi), zlib itself does both: the compressed bytes differ, their format does not,
and each reads what the other wrote.
"""

from __future__ import annotations

import zlib
from types import ModuleType

_format: ModuleType
try:
    from isal import isal_zlib as _format
except ImportError:  # pragma: no cover - the platforms without an isal wheel
    _format = zlib

# Whether ISA-L compresses here (the benchmark prints it with its figures).
ACCELERATED = _format is not zlib


def compress(data: bytes) -> bytes:
    """Compress `data` as a zlib stream (RFC 1950) at level 1; any zlib reader reads it."""
    return _format.compress(data, 1)


def decompress(data: bytes | memoryview) -> bytes:
    """Return the bytes of a zlib stream (RFC 1950), whoever compressed it."""
    return _format.decompress(data)
