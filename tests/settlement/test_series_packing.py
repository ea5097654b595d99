"""A run's hourly series are stored packed: whatever the values, they read back the same.

pack_each packs a month's members at once (byte planes made in one pass, compression on
several threads); each member's bytes must be exactly what pack_rows gives for it alone.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cer.settlement.models import pack_each, pack_rows, pack_series, unpack_series

_VALUES = st.one_of(
    st.integers(0, 5_000),  # a household's hour [Wh]
    st.integers(-(2**31), 2**31 - 1),  # anything int32 holds
    st.integers(-(2**62), 2**62),  # beyond int32: stored as int64
)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.int64,
        st.tuples(st.integers(0, 5), st.integers(1, 4), st.integers(0, 30)),
        elements=_VALUES,
    )
)
def test_each_item_packs_as_alone_and_reads_back(rows):
    packed = pack_each(rows)

    assert packed == [pack_rows(item) for item in rows]
    for item, blob in zip(rows, packed, strict=True):
        assert np.array_equal(unpack_series(blob, item.shape[0]).reshape(item.shape), item)


def test_a_month_of_a_thousand_members_packs_on_threads_the_same():
    rng = np.random.default_rng(7)
    rows = rng.integers(0, 3_000, size=(1_000, 4, 744))
    rows[:, 0] = 0  # consumers inject nothing

    packed = pack_each(rows)

    assert packed == [pack_rows(item) for item in rows]
    assert np.array_equal(unpack_series(packed[999], 4), rows[999])


def test_series_of_one_plant_read_back():
    allocation = np.array([0, 1_500, 2**40, 7])
    rates = np.array([11_000, 11_000, 10_500, 0])

    assert np.array_equal(unpack_series(pack_series(allocation, rates), 2), [allocation, rates])
