"""The DM 414/2023 tariff per plant and hour (docs/algorithms/tip.md)."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from cercalc import incentives, pnrr, prices, tariff
from cercalc.params import default_parameters
from cercalc.settle import Plant


def one_hour(case, *, price="140.00", injected="30.000", withdrawn=("7.000", "15.000"), **plant):
    case["plants"][0].update(plant)
    case["hours"] = [
        {
            "start": "2024-06-03T11:00:00+02:00",
            "zonal_price_eur_per_mwh": price,
            "injected_kwh": {"PV1": injected},
            "withdrawn_kwh": {"C1": withdrawn[0], "C2": withdrawn[1]},
        }
    ]
    return case


@pytest.mark.parametrize(
    ("power_kw", "source", "region", "price", "rate"),
    [
        ("200.0", "PV", "Lombardia", "140.00", "130.00"),
        ("200.001", "PV", "Lombardia", "140.00", "120.00"),
        ("600.0", "PV", "Lombardia", "160.00", "100.00"),
        ("600.001", "PV", "Lombardia", "160.00", "90.00"),
        ("900", "PV", "Lombardia", "120.00", "110.00"),
        ("45", "PV", "Lombardia", "250.00", "90.00"),
        ("45", "PV", "Lombardia", "-20.00", "130.00"),
        ("45", "PV", "Toscana", "156.78", "107.22"),
        ("45", "PV", "Sicilia", "140.00", "120.00"),
        ("200", "WIND", "Lombardia", "170.00", "90.00"),
    ],
    ids=[
        "exactly 200 kW is band 1",
        "just above 200 kW is band 2",
        "exactly 600 kW is band 2",
        "just above 600 kW is band 3",
        "band 3 capped",
        "Pz above 180",
        "Pz negative",
        "Pz with decimals",
        "south without correction",
        "wind without correction",
    ],
)
def test_the_documented_tariff_table_is_reproduced(
    run_case, example_case, power_kw, source, region, price, rate
):
    case = one_hour(example_case, power_kw=power_kw, source=source, region=region, price=price)

    _, output = run_case(case)

    assert output["hours"][0]["premium_rate_eur_per_mwh"] == {"PV1": rate}


def test_the_amount_uses_the_exact_rate_and_rounds_once(run_case, example_case):
    case = one_hour(example_case, price="156.78")

    result, output = run_case(case)

    # 22 kWh x 107.22 EUR/MWh = 2.35884 EUR
    assert result.plants[0].incentive_exact_eur == Fraction(Decimal("2.35884"))
    assert output["plants"]["PV1"]["incentive_eur"] == "2.36"


def test_band_edges_belong_to_the_lower_band():
    def band(kw: str) -> int:
        return incentives.power_band(
            Decimal(kw), band1_max_kw=Decimal("200"), band2_max_kw=Decimal("600")
        )

    assert [band("200.0"), band("200.001"), band("600.0"), band("600.001")] == [1, 2, 2, 3]


def test_a_plant_of_400_kw_is_in_band_2_and_paid_with_the_band_2_parameters():
    plant = Plant("PV1", "PV", Decimal("400"), date(2024, 3, 1), "Sicilia")
    parameters = default_parameters()
    hours = np.array([1_717_405_200], dtype=np.int64)  # 2024-06-03T09:00Z
    warnings: list[str] = []

    terms = tariff.terms_of_plants(
        [plant], parameters=parameters, start_day=date(2024, 6, 3), warnings=warnings
    )
    rates, _ = tariff.tariff_rate_units(
        terms=terms,
        plants=[plant],
        configuration_type="CER",
        hour_start_utc_s=hours,
        zonal_price_units=np.array([1_400_000], dtype=np.int64),
        allocation_wh=np.array([[1_000]], dtype=np.int64),
        parameters=parameters,
        warnings=warnings,
    )

    assert terms[0].band == 2
    assert rates.tolist() == [[1_100_000]]  # min(110, 70 + 180 - 140) EUR/MWh, band 2


def test_the_variable_part_has_no_cap_of_its_own_only_the_sum_is_capped():
    rates = incentives.band_rate_units(
        zonal_price_units=np.array([1_900_000, 1_400_000, 1_600_000, -200_000]),
        base_units=np.full(4, 800_000),
        cap_units=np.full(4, 1_200_000),
        reference_price_units=np.full(4, 1_800_000),
    )

    assert rates.tolist() == [800_000, 1_200_000, 1_000_000, 1_200_000]


def test_shared_energy_is_zero_without_injection_and_no_tariff_is_shown(run_case, example_case):
    case = one_hour(example_case, injected="0.000")

    _, output = run_case(case)

    assert output["hours"][0]["shared_kwh"] == "0.000"
    assert output["hours"][0]["allocation_kwh"] == {}
    assert output["hours"][0]["premium_rate_eur_per_mwh"] == {}
    assert output["totals"]["incentive_eur"] == "0.00"


def test_a_plant_above_1_mw_gets_the_valorisation_but_no_tariff(run_case, example_case):
    case = one_hour(example_case, power_kw="1200")

    _, output = run_case(case)

    assert output["plants"]["PV1"] == {
        "shared_kwh": "22.000",
        "incentive_eur": "0.00",
        "gse_fee_eur_per_year": "0.00",
    }
    assert output["hours"][0]["premium_rate_eur_per_mwh"] == {"PV1": "0.00"}
    assert output["totals"]["valorisation_eur"] == "0.23"  # 22 x 10.57 / 1000 = 0.23254
    assert any("above 1000 kW" in warning for warning in output["warnings"])


def test_an_existing_plant_gets_the_valorisation_but_no_tariff(run_case, example_case):
    case = one_hour(example_case, entry_into_service="2019-05-01", existing=True)

    _, output = run_case(case)

    assert output["plants"]["PV1"]["incentive_eur"] == "0.00"
    assert output["totals"]["valorisation_eur"] == "0.23"
    assert output["totals"]["excess_eur"] == "0.00"


def test_a_plant_older_than_2021_is_treated_as_existing_with_a_warning(run_case, example_case):
    case = one_hour(example_case, entry_into_service="2019-05-01", existing=False)

    _, output = run_case(case)

    assert output["plants"]["PV1"]["incentive_eur"] == "0.00"
    assert any("treated as an existing plant" in warning for warning in output["warnings"])


def test_an_older_existing_plant_is_served_first_and_takes_shared_energy(run_case, example_case):
    old = dict(example_case["plants"][0], id="OLD", entry_into_service="2019-05-01", existing=True)
    example_case["plants"].append(old)
    example_case["hours"][0]["injected_kwh"]["OLD"] = "20.000"

    _, output = run_case(example_case)

    assert output["hours"][0]["allocation_kwh"] == {"OLD": "20.000", "PV1": "2.000"}
    assert output["hours"][0]["premium_rate_eur_per_mwh"] == {"OLD": "0.00", "PV1": "124.00"}


def test_the_superbonus_share_is_removed_in_proportion_to_power(run_case, example_case):
    example_case["plants"][0]["superbonus_kw"] = "9"

    result, output = run_case(example_case)

    # 22 x 36/45 = 17.6 kWh at 124, 10 x 36/45 = 8 kWh at 84: 2.1824 + 0.672 = 2.8544 EUR
    assert result.incentivised_wh.tolist() == [[17_600, 8_000]]
    assert output["plants"]["PV1"]["incentive_eur"] == "2.85"
    assert output["plants"]["PV1"]["shared_kwh"] == "32.000"
    assert output["totals"]["valorisation_eur"] == "0.34"
    assert any("Superbonus" in warning for warning in output["warnings"])


def test_a_non_round_superbonus_share_is_summed_exactly_and_rounded_once(run_case, example_case):
    example_case["plants"][0]["obligation_kw"] = "7"
    example_case["hours"][0]["withdrawn_kwh"]["C2"] = "14.995"
    example_case["hours"][1]["injected_kwh"]["PV1"] = "10.025"

    result, _ = run_case(example_case)

    # 21,995 x 38/45 = 18,573.556 Wh and 10,025 x 38/45 = 8,465.556 Wh: 27,039.111 -> 27,039 Wh
    # (rounding each hour first would give 18,574 + 8,466 = 27,040 Wh).
    plant = result.plants[0]
    assert plant.incentivised_exact_wh == Fraction(32_020 * 38, 45)
    assert plant.incentivised_wh == 27_039
    # (21,995 x 124 + 10,025 x 84) x 38/45 Wh.EUR/MWh = 3.014227556 EUR
    assert plant.incentive_exact_eur == Fraction(3_569_480 * 38, 45 * 10**6)
    assert plant.incentive_eur == Decimal("3.01")
    # The hourly series is rounded for display only.
    assert result.incentivised_wh.tolist() == [[18_574, 8_466]]


def test_a_grant_reduces_only_the_energy_of_non_exempt_consumers(run_case, example_case):
    example_case["plants"][0]["capital_grant_pct"] = "30"
    example_case["consumers"][0]["category"] = "public_body"

    result, output = run_case(example_case)

    # F = 0.5 x 0.30 / 0.40 = 0.375. Exempt energy: 22 x 7/22 = 7 kWh, 10 x 8/18 = 40/9 kWh,
    # exact (not rounded to 4.444 kWh): 7 x 124 + 15 x 124 x 0.625 + 40/9 x 84
    # + 50/9 x 84 x 0.625 = 868 + 1162.5 + (3360 + 2625)/9 = 2695.5 EUR/1000
    # The exempt money of the hour is taken to 1e-20 EUR (money.sum_of_quotients).
    assert abs(result.plants[0].incentive_exact_eur - Fraction(Decimal("2.6955"))) < Fraction(
        1, 10**19
    )
    assert output["plants"]["PV1"] == {
        "shared_kwh": "32.000",
        "incentive_eur": "2.70",
        "gse_fee_eur_per_year": "40.00",
        "grant_reduction_f": "0.375",
        "pnrr_fee_eur": "450.00",
    }
    assert [hour["premium_rate_eur_per_mwh"]["PV1"] for hour in output["hours"]] == [
        "77.50",
        "52.50",
    ]
    assert output["totals"]["excess_eur"] == "0.94"  # (80 % - 45 %) x 2.6955 = 0.943425
    assert any("f_exempt_split" in warning for warning in output["warnings"])


def test_households_are_not_exempt_from_f_before_dm_127_2025(run_case, example_case):
    example_case["plants"][0]["capital_grant_pct"] = "30"

    _, output = run_case(example_case)

    # Everything reduced: (22 x 124 + 10 x 84) x 0.625 / 1000 = 2.23
    assert output["plants"]["PV1"]["incentive_eur"] == "2.23"


def test_households_are_exempt_from_f_after_dm_127_2025(run_case, example_case):
    example_case["plants"][0]["capital_grant_pct"] = "30"
    for hour, start in zip(
        example_case["hours"],
        ["2025-07-01T11:00:00+02:00", "2025-07-01T12:00:00+02:00"],
        strict=True,
    ):
        hour["start"] = start

    _, output = run_case(example_case)

    assert output["plants"]["PV1"]["incentive_eur"] == "2.70"


def test_the_alternative_exempt_split_gives_exempt_consumers_their_whole_withdrawal(
    run_case, example_case
):
    example_case["plants"][0]["capital_grant_pct"] = "30"
    example_case["consumers"][0]["category"] = "religious_body"
    example_case["parameters"]["f_exempt_split"] = "exempt_first"

    _, output = run_case(example_case)

    # 7 x 124 + 15 x 124 x 0.625 + 8 x 84 + 2 x 84 x 0.625 = 2807.5 / 1000
    assert output["plants"]["PV1"]["incentive_eur"] == "2.81"


def test_a_grant_above_40_percent_means_no_tariff(run_case, example_case):
    example_case["plants"][0]["capital_grant_pct"] = "45"

    _, output = run_case(example_case)

    assert output["plants"]["PV1"]["incentive_eur"] == "0.00"
    assert any("above 40 %" in warning for warning in output["warnings"])


def test_the_tariff_stops_after_its_duration(run_case, example_case):
    example_case["plants"][0]["entry_into_service"] = "2023-06-03"
    example_case["parameters"]["tip_duration_years"] = "1"

    _, output = run_case(example_case)

    assert output["plants"]["PV1"]["incentive_eur"] == "0.00"
    assert output["totals"]["shared_kwh"] == "32.000"


def test_a_dm_2020_plant_gets_the_flat_tariff(run_case, example_case):
    example_case["plants"][0]["regime"] = "DM2020"

    _, output = run_case(example_case)

    assert output["plants"]["PV1"]["incentive_eur"] == "3.52"  # 32 kWh x 110 EUR/MWh
    assert output["totals"]["excess_eur"] == "0.00"


def test_f_grows_linearly_to_one_half_at_a_40_percent_grant():
    def factor(share: str) -> Fraction:
        return pnrr.grant_reduction_factor(
            Fraction(share), f_max=Decimal("0.50"), share_at_f_max=Decimal("0.40")
        )

    assert [factor("0"), factor("0.30"), factor("0.40")] == [0, Fraction(3, 8), Fraction(1, 2)]


def quarter_hours(hour_s, *texts):
    return [(hour_s + 900 * quarter, 15, Decimal(text)) for quarter, text in enumerate(texts)]


def test_the_hourly_price_is_the_mean_of_four_quarter_hour_prices():
    hour = np.array([1_761_436_800], dtype=np.int64)  # 2025-10-26T00:00Z

    result = prices.hourly_price_units(
        hour, quarter_hours(1_761_436_800, "112.34", "110.00", "120.00", "100.01")
    )

    # (112.34 + 110.00 + 120.00 + 100.01) / 4 = 110.5875 EUR/MWh
    assert result.price_units.tolist() == [1_105_875]
    assert result.known.tolist() == [True]
    assert not result.rounded


def test_a_quarter_hour_mean_finer_than_the_rate_unit_is_rounded_half_up():
    hours = np.array([1_761_436_800, 1_761_440_400], dtype=np.int64)
    intervals = quarter_hours(1_761_436_800, "0.0002", "0", "0", "0") + quarter_hours(
        1_761_440_400, "-0.0002", "0", "0", "0"
    )

    result = prices.hourly_price_units(hours, intervals)

    # 0.00005 EUR/MWh is half a rate unit: half up, away from zero.
    assert result.price_units.tolist() == [1, -1]
    assert result.rounded


def test_an_hourly_price_wins_and_an_incomplete_set_of_quarter_hours_gives_none():
    hours = np.array([1_761_436_800, 1_761_440_400], dtype=np.int64)
    intervals = [
        *quarter_hours(1_761_436_800, "10", "20", "30", "40"),
        (1_761_436_800, 60, Decimal("99.5")),
        *quarter_hours(1_761_440_400, "10", "20", "-30"),
    ]

    result = prices.hourly_price_units(hours, intervals)

    assert result.price_units.tolist() == [995_000, 0]
    assert result.known.tolist() == [True, False]


def test_an_hour_without_price_and_without_shared_energy_is_only_reported(run_case, example_case):
    example_case["hours"][1]["injected_kwh"] = {}
    del example_case["hours"][1]["zonal_price_eur_per_mwh"]

    _, output = run_case(example_case)

    assert output["totals"]["incentive_eur"] == "2.73"
    assert output["warnings"] == [
        "1 hour without a zonal price had no shared energy, "
        "so no figure depends on the price there."
    ]
