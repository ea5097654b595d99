"""The ARERA valorisation contribution (docs/algorithms/valorisation.md)."""

from decimal import Decimal
from fractions import Fraction


def test_a_cer_is_paid_tras_e_on_the_shared_energy(run_case, example_case):
    result, output = run_case(example_case)

    assert result.valorisation_exact_eur == Fraction(Decimal("0.33824"))
    assert output["totals"]["valorisation_eur"] == "0.34"


def test_a_group_in_one_building_adds_btau_and_the_avoided_losses(run_case, example_case):
    example_case["configuration"]["type"] = "AUC"

    result, output = run_case(example_case)

    # (10.57 + 0.65) x 32 / 1000 = 0.35904; 0.026 x (22 x 140 + 10 x 190) / 1000 = 0.12948
    assert result.valorisation_exact_eur == Fraction(Decimal("0.48852"))
    assert output["totals"]["valorisation_eur"] == "0.49"
    assert any("loss_factor" in warning for warning in output["warnings"])


def test_the_unit_value_follows_the_local_calendar_year(run_case, example_case):
    example_case["parameters"] = {}
    example_case["plants"][0].update(entry_into_service="2019-05-01", existing=True)
    example_case["hours"] = [
        {
            "start": start,
            "zonal_price_eur_per_mwh": "100.00",
            "injected_kwh": {"PV1": "1000.000"},
            "withdrawn_kwh": {"C1": "1000.000"},
        }
        for start in ("2023-12-31T23:00:00+01:00", "2024-01-01T00:00:00+01:00")
    ]

    _, output = run_case(example_case)

    # 1 MWh at 8.48 (2023) + 1 MWh at 10.57 (2024, from local midnight = 23:00 UTC)
    assert output["totals"]["valorisation_eur"] == "19.05"
    assert output["hours"][1]["start"] == "2023-12-31T23:00:00Z"


def test_a_year_without_a_known_unit_value_uses_the_last_one_and_says_so(run_case, example_case):
    example_case["parameters"] = {}
    example_case["plants"][0].update(entry_into_service="2019-05-01", existing=True)
    example_case["hours"][0]["start"] = "2025-03-03T11:00:00+01:00"
    example_case["hours"][1]["start"] = "2025-03-03T12:00:00+01:00"

    _, output = run_case(example_case)

    assert output["totals"]["valorisation_eur"] == "0.34"
    assert any(
        "valorisation_eur_per_mwh" in warning and "10.57" in warning
        for warning in output["warnings"]
    )
