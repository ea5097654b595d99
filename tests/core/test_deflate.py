"""cer.core.deflate: the zlib format whoever compresses or reads it, ISA-L where it has wheels."""

from __future__ import annotations

import platform
import zlib

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cer.core import deflate


@given(st.binary(max_size=5000))
def test_what_one_compresses_the_other_reads_back(data):
    assert zlib.decompress(deflate.compress(data)) == data
    assert deflate.decompress(zlib.compress(data, 6)) == data  # blobs stored by zlib


def test_a_month_of_byte_planes_comes_back_whole_and_smaller():
    rng = np.random.default_rng(7)
    values = rng.integers(0, 3000, size=(4, 744)).astype("<i4")
    planes = values.view(np.uint8).reshape(-1, 4).T.tobytes()  # high planes nearly all zero
    packed = deflate.compress(planes)
    assert zlib.decompress(packed) == planes
    assert len(packed) < len(planes) / 2


def test_isal_compresses_on_the_machines_it_has_wheels_for():
    # pyproject.toml installs isal on these: its absence would be a broken install.
    has_wheels = platform.machine() in ("x86_64", "aarch64")
    assert deflate.ACCELERATED is has_wheels
