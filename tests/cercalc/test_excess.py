"""The 55 %/45 % rule (docs/algorithms/excess.md)."""

from decimal import Decimal
from fractions import Fraction

from cercalc import excess


def test_the_excess_share_is_in_percentage_points_over_the_threshold():
    share = excess.excess_share(
        incentivised_wh=32_000, injected_wh=40_000, threshold=Decimal("0.55")
    )

    assert share == Fraction(1, 4)


def test_the_excess_is_the_share_times_the_whole_tariff_of_the_set():
    amount = excess.excess_eur(
        incentivised_wh=32_000,
        injected_wh=40_000,
        threshold=Decimal("0.55"),
        incentive_eur=Fraction(Decimal("3.568")),
    )

    assert amount == Fraction(Decimal("0.892"))


def test_a_set_below_its_threshold_has_no_excess():
    amount = excess.excess_eur(
        incentivised_wh=30_000,
        injected_wh=100_000,
        threshold=Decimal("0.45"),
        incentive_eur=Fraction(5),
    )

    assert amount == 0


def test_a_set_that_injected_nothing_has_no_excess():
    share = excess.excess_share(incentivised_wh=0, injected_wh=0, threshold=Decimal("0.55"))

    assert share == 0


def test_each_set_is_checked_against_its_own_threshold(run_case, example_case):
    granted = dict(
        example_case["plants"][0], id="PV2", entry_into_service="2024-03-01", capital_grant_pct="20"
    )
    example_case["plants"].append(granted)
    example_case["hours"][0]["injected_kwh"] = {"PV1": "0.000", "PV2": "100.000"}

    _, output = run_case(example_case)

    # PV2 (older, with a grant) takes the 22 kWh of hour 1: 22/100 = 22 % < 45 %, no excess.
    # PV1 (tariff only) takes the 10 kWh of hour 2: 10/10 = 100 %, 45 points over 55 %:
    # 0.45 x (10 x 84 / 1000) = 0.378 EUR.
    assert output["plants"]["PV2"]["shared_kwh"] == "22.000"
    assert output["plants"]["PV1"]["incentive_eur"] == "0.84"
    assert output["totals"]["excess_eur"] == "0.38"
