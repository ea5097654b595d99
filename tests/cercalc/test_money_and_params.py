"""Exact units, rounding half up, and the dated parameter tables."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cercalc import buckets
from cercalc.money import (
    CENT,
    UnitError,
    checked_product,
    exact_row_sums,
    format_kwh,
    parse_kwh,
    rate_units,
    round_eur,
)
from cercalc.params import ParameterError, default_parameters


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("3.568", "3.57"),
        ("0.33824", "0.34"),
        ("0.005", "0.01"),
        ("-0.005", "-0.01"),
        ("2.344", "2.34"),
    ],
)
def test_amounts_are_rounded_half_up_to_the_cent(amount, rounded):
    assert round_eur(Decimal(amount)) == Decimal(rounded)


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False))
def test_rounding_matches_decimal_round_half_up(amount):
    assert round_eur(amount) == amount.quantize(CENT, rounding=ROUND_HALF_UP)


def test_a_fraction_is_rounded_exactly():
    assert round_eur(Fraction(1, 200)) == Decimal("0.01")
    assert round_eur(Fraction(1, 201)) == Decimal("0.00")


@pytest.mark.parametrize(
    ("text", "wh"), [("30.000", 30_000), ("30", 30_000), ("0.5", 500), ("0.001", 1), ("", None)]
)
def test_kwh_strings_become_exact_watt_hours(text, wh):
    if wh is None:
        with pytest.raises(UnitError):
            parse_kwh(text)
    else:
        assert parse_kwh(text) == wh


@given(st.integers(min_value=0, max_value=10**15))
def test_kwh_text_round_trips_through_watt_hours(wh):
    assert parse_kwh(format_kwh(wh)) == wh


def test_rates_with_four_decimals_are_exact_and_finer_ones_are_refused():
    assert rate_units(Decimal("112.34")) == 1_123_400
    assert rate_units(Decimal("112.3425")) == 1_123_425
    with pytest.raises(UnitError):
        rate_units(Decimal("112.34251"))


def test_sums_that_could_overflow_int64_are_still_exact():
    big = np.full((1, 4), 2**62, dtype=np.int64)

    assert exact_row_sums(big) == [2**64]
    assert checked_product(big, 4).tolist() == [[2**64] * 4]


def test_a_parameter_is_taken_from_the_period_holding_the_date():
    parameters = default_parameters()

    assert parameters.value_on("valorisation_eur_per_mwh", date(2023, 12, 31), []) == Decimal(
        "8.48"
    )
    assert parameters.value_on("valorisation_eur_per_mwh", date(2024, 1, 1), []) == Decimal("10.57")


def test_a_date_outside_every_period_takes_the_nearest_value_with_a_warning():
    warnings: list[str] = []

    value = default_parameters().value_on("btau_eur_per_mwh", date(2025, 2, 1), warnings)

    assert value == Decimal("0.65")
    assert warnings == [
        "No value of btau_eur_per_mwh is known for 2025-02-01: the engine used 0.65 EUR/MWh, "
        "valid until 2025-01-01 (end exclusive)."
    ]


def test_an_override_replaces_the_table_on_every_date():
    parameters = default_parameters().with_overrides({"valorisation_eur_per_mwh": "9.99"})

    assert parameters.value_on("valorisation_eur_per_mwh", date(2021, 5, 1), []) == Decimal("9.99")


def test_a_region_override_is_merged_into_the_table():
    parameters = default_parameters().with_overrides(
        {"pv_regional_correction_eur_per_mwh": {"Toscana": "5"}}
    )
    table = parameters.value_on("pv_regional_correction_eur_per_mwh", date(2024, 6, 1), [])

    assert (table["Toscana"], table["Lombardia"]) == (Decimal("5"), Decimal("10"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"colour": "red"}, "colour: unknown parameter"),
        ({"excess_threshold_share": 0.55}, "decimal string"),
        ({"f_exempt_split": "half"}, "proportional, exempt_first"),
        ({"f_exempt_categories": ["martians"]}, "household"),
        ({"pnrr_fee_eur_steps": [["200", "1"], ["20", "2"]]}, "increase"),
    ],
)
def test_a_bad_override_is_refused(overrides, message):
    with pytest.raises(ParameterError, match=message):
        default_parameters().with_overrides(overrides)


def test_hourly_values_switch_at_local_midnight():
    hours = np.array(
        [buckets.parse_instant_utc_s(t) for t in ("2023-12-31T22:00:00Z", "2023-12-31T23:00:00Z")],
        dtype=np.int64,
    )

    rates = default_parameters().hourly_rate_units("valorisation_eur_per_mwh", hours, [])

    assert rates.tolist() == [84_800, 105_700]


def test_the_exempt_categories_gain_households_from_dm_127_2025():
    parameters = default_parameters()

    before = parameters.value_on("f_exempt_categories", date(2025, 6, 25), [])
    after = parameters.value_on("f_exempt_categories", date(2025, 6, 26), [])

    assert "household" not in before
    assert "household" in after
