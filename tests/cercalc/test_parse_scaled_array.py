"""Exact decimal reading: energies never pass through a float."""

from __future__ import annotations

from cercalc.money import TextStatus, parse_scaled_array


def test_kwh_with_decimal_comma_becomes_exact_milliwatt_hours():
    values, status = parse_scaled_array(
        ["0,123", "1,5", "12", ",5", "0,000001"], decimal_sep=",", scale_digits=6
    )

    assert values.tolist() == [123_000, 1_500_000, 12_000_000, 500_000, 1]
    assert status.tolist() == [TextStatus.OK] * 5


def test_tenths_add_up_exactly_unlike_floats():
    values, _ = parse_scaled_array(["0,1", "0,2"], decimal_sep=",", scale_digits=6)

    assert int(values.sum()) == 300_000


def test_each_bad_value_gets_its_own_status():
    values, status = parse_scaled_array(
        ["", " ", "n/d", "-0,004", "-0,000", "0,0000001", "1.234,5", "1,2,3", "12345678901"],
        decimal_sep=",",
        scale_digits=6,
    )

    assert status.tolist() == [
        TextStatus.EMPTY,
        TextStatus.EMPTY,
        TextStatus.NOT_A_NUMBER,
        TextStatus.NEGATIVE,
        TextStatus.OK,
        TextStatus.TOO_PRECISE,
        TextStatus.NOT_A_NUMBER,
        TextStatus.NOT_A_NUMBER,
        TextStatus.TOO_LARGE,
    ]
    assert values.tolist() == [0] * 9


def test_trailing_zeros_beyond_the_unit_are_harmless():
    values, status = parse_scaled_array(["0,12300000"], decimal_sep=",", scale_digits=6)

    assert (values.tolist(), status.tolist()) == ([123_000], [TextStatus.OK])


def test_shape_is_kept_for_a_matrix_of_cells():
    values, status = parse_scaled_array([["1", "2"], ["3.5", "x"]], decimal_sep=".", scale_digits=3)

    assert values.tolist() == [[1000, 2000], [3500, 0]]
    assert status.tolist() == [[0, 0], [0, TextStatus.NOT_A_NUMBER]]
