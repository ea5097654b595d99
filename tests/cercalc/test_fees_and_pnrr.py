"""GSE fees and the PNRR grant (docs/algorithms/fees.md, docs/algorithms/pnrr.md)."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from cercalc import fees, pnrr
from cercalc.params import default_parameters

PARAMETERS = default_parameters()


def value(name: str, day: date = date(2024, 6, 1)):
    return PARAMETERS.value_on(name, day, [])


def yearly_fee(power_kw: str) -> Decimal:
    return fees.gse_fee_eur_per_year(
        Decimal(power_kw),
        free_max_kw=value("gse_fee_free_max_kw"),
        fixed_max_kw=value("gse_fee_fixed_max_kw"),
        fixed_eur_per_year=value("gse_fee_fixed_eur_per_year"),
        eur_per_kw_year=value("gse_fee_eur_per_kw_year"),
    )


@pytest.mark.parametrize(
    ("power_kw", "fee_eur"),
    [
        ("3", "0"),
        ("3.001", "15"),
        ("20", "15"),
        ("20.5", "15.5"),
        ("45", "40"),
        ("200", "195"),
        ("600", "595"),
        ("1000", "995"),
    ],
)
def test_the_documented_yearly_fee_table_is_reproduced(power_kw, fee_eur):
    assert yearly_fee(power_kw) == Decimal(fee_eur)


@pytest.mark.parametrize(
    ("power_kw", "fee_eur"),
    [("20", "50"), ("20.001", "450"), ("200", "450"), ("600", "1300"), ("1000", "2300")],
)
def test_the_documented_pnrr_fee_table_is_reproduced(power_kw, fee_eur):
    assert fees.pnrr_fee_eur(Decimal(power_kw), value("pnrr_fee_eur_steps")) == Decimal(fee_eur)


def test_there_is_no_pnrr_fee_above_1_mw():
    with pytest.raises(ValueError, match="above the last power step"):
        fees.pnrr_fee_eur(Decimal("1000.001"), value("pnrr_fee_eur_steps"))


def grant(power_kw: str, investment_eur: str, day: date = date(2025, 7, 1)) -> pnrr.CapitalGrant:
    return pnrr.capital_grant(
        power_kw=Decimal(power_kw),
        investment_eur=Decimal(investment_eur),
        cost_caps_eur_per_kw=value("pnrr_cost_cap_eur_per_kw_steps", day),
        grant_share=value("pnrr_grant_share", day),
        advance_share=value("pnrr_advance_share", day),
    )


@pytest.mark.parametrize(
    ("power_kw", "investment_eur", "eligible_eur", "grant_eur", "advance_eur"),
    [
        ("45", "60000", "54000", "21600", "6480"),
        ("15", "18000", "18000", "7200", "2160"),
        ("800", "900000", "840000", "336000", "100800"),
    ],
)
def test_the_documented_grant_table_is_reproduced(
    power_kw, investment_eur, eligible_eur, grant_eur, advance_eur
):
    result = grant(power_kw, investment_eur)

    assert result.eligible_cost_eur == Decimal(eligible_eur)
    assert result.grant_eur == Decimal(grant_eur)
    assert result.advance_eur == Decimal(advance_eur)


def test_the_advance_was_ten_percent_before_dm_127_2025():
    assert grant("45", "60000", date(2025, 6, 25)).advance_eur == Decimal("2160")


def test_f_is_measured_on_the_investment_by_default(run_case, example_case):
    example_case["plants"][0]["pnrr"] = {"investment_eur": "60000"}

    _, output = run_case(example_case)

    # grant 21,600 / investment 60,000 = 36 %: F = 0.5 x 0.36 / 0.40 = 0.45
    assert output["plants"]["PV1"]["capital_grant_eur"] == "21600.00"
    assert output["plants"]["PV1"]["grant_reduction_f"] == "0.45"
    assert output["plants"]["PV1"]["pnrr_fee_eur"] == "450.00"
    assert output["plants"]["PV1"]["incentive_eur"] == "1.96"  # 3.568 x 0.55 = 1.9624
    assert any("f_grant_share_base" in warning for warning in output["warnings"])


def test_f_on_the_eligible_cost_is_one_half(run_case, example_case):
    example_case["plants"][0]["pnrr"] = {"investment_eur": "60000"}
    example_case["parameters"]["f_grant_share_base"] = "eligible_cost"

    _, output = run_case(example_case)

    assert output["plants"]["PV1"]["grant_reduction_f"] == "0.50"
    assert output["plants"]["PV1"]["incentive_eur"] == "1.78"  # 3.568 x 0.5 = 1.784


def test_a_factor_with_many_decimals_is_shown_to_six():
    share = Fraction(Decimal("336000")) / Fraction(Decimal("900000"))

    factor = pnrr.grant_reduction_factor(
        share, f_max=Decimal("0.50"), share_at_f_max=Decimal("0.40")
    )

    assert factor == Fraction(7, 15)  # 0.4666...
