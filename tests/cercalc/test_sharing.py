"""Shared energy and chronological attribution (docs/algorithms/sharing-and-attribution.md)."""

from datetime import date

import numpy as np

from cercalc import sharing


def attribute(injected_kwh_rows, shared_kwh, entry_dates, ids):
    injected_wh = np.array(injected_kwh_rows, dtype=np.int64) * 1000
    order = sharing.chronological_order(entry_dates, ids)
    return sharing.attribute_chronologically(
        energy_by_hour_wh=np.array(shared_kwh, dtype=np.int64) * 1000,
        capacity_wh=injected_wh,
        order=order,
    )


def test_shared_energy_is_the_hourly_minimum_of_the_two_sides():
    shared = sharing.shared_energy_by_hour(
        injected_by_hour_wh=np.array([35_000, 35_000, 0, 18_000]),
        withdrawn_by_hour_wh=np.array([30_000, 12_000, 25_000, 40_000]),
    )

    assert shared.tolist() == [30_000, 12_000, 0, 18_000]


def test_shared_energy_is_zero_without_injection():
    shared = sharing.shared_energy_by_hour(
        injected_by_hour_wh=np.array([0]), withdrawn_by_hour_wh=np.array([25_000])
    )

    assert shared.tolist() == [0]


def test_the_documented_attribution_table_is_reproduced():
    # docs/algorithms/sharing-and-attribution.md: A 2024-03-01, B and C 2024-05-10.
    allocation = attribute(
        injected_kwh_rows=[[10, 10, 0, 4], [20, 20, 0, 6], [5, 5, 0, 8]],
        shared_kwh=[30, 12, 0, 18],
        entry_dates=[date(2024, 3, 1), date(2024, 5, 10), date(2024, 5, 10)],
        ids=["A", "B", "C"],
    )

    assert (allocation // 1000).tolist() == [[10, 10, 0, 4], [20, 2, 0, 6], [0, 0, 0, 8]]


def test_the_older_plant_is_served_first_whatever_the_listing_order():
    allocation = attribute(
        injected_kwh_rows=[[20], [10]],
        shared_kwh=[12],
        entry_dates=[date(2024, 5, 10), date(2024, 3, 1)],
        ids=["NEW", "OLD"],
    )

    assert (allocation // 1000).tolist() == [[2], [10]]


def test_plants_entering_service_the_same_day_are_served_by_id():
    allocation = attribute(
        injected_kwh_rows=[[5], [5]],
        shared_kwh=[6],
        entry_dates=[date(2024, 5, 10), date(2024, 5, 10)],
        ids=["Z", "B"],
    )

    assert (allocation // 1000).tolist() == [[1], [5]]


def test_a_group_is_summed_from_its_rows_or_from_the_others():
    withdrawn = np.array([[1, 2], [10, 20], [100, 200]], dtype=np.int64)
    total = withdrawn.sum(axis=0)

    small = sharing.withdrawn_by_group(
        withdrawn_wh=withdrawn, in_group=np.array([True, False, False]), withdrawn_by_hour_wh=total
    )
    large = sharing.withdrawn_by_group(
        withdrawn_wh=withdrawn, in_group=np.array([False, True, True]), withdrawn_by_hour_wh=total
    )

    assert small.tolist() == [1, 2]
    assert large.tolist() == [110, 220]
