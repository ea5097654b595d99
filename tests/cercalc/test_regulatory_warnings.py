"""Regime choice, declared facts the engine warns about, and the parametric valorisation.

Every figure is derived by hand from the ENGINE_IO.md example (PV 45 kW in Toscana, +4 EUR/MWh;
hours 11:00 at Pz 140 with 22 kWh shared and 12:00 at Pz 190 with 10 kWh shared).
"""

from fractions import Fraction

import pytest

from cercalc.case import CaseError, parse_case


def warnings_with(output, text):
    return [warning for warning in output["warnings"] if text in warning]


def test_a_dm_2020_plant_in_service_before_the_2021_cut_off_keeps_its_flat_tariff(
    run_case, example_case
):
    example_case["plants"][0].update(regime="DM2020", entry_into_service="2021-03-15")

    _, output = run_case(example_case)

    # 32 kWh x 110 EUR/MWh (CER flat rate) = 3.52 EUR; the cut-off is the new regime's only.
    assert output["plants"]["PV1"]["incentive_eur"] == "3.52"
    assert output["hours"][0]["premium_rate_eur_per_mwh"] == {"PV1": "110.00"}
    assert not warnings_with(output, "treated as an existing plant")
    assert not warnings_with(output, "DM 16/9/2020")


def test_a_dm_414_plant_before_the_2021_cut_off_is_still_existing(run_case, example_case):
    example_case["plants"][0]["entry_into_service"] = "2021-03-15"

    _, output = run_case(example_case)

    assert output["plants"]["PV1"]["incentive_eur"] == "0.00"
    assert warnings_with(output, "treated as an existing plant")


def test_a_dm_2020_plant_before_march_2020_is_flagged(run_case, example_case):
    example_case["plants"][0].update(regime="DM2020", entry_into_service="2020-01-15")

    _, output = run_case(example_case)

    assert output["plants"]["PV1"]["incentive_eur"] == "3.52"
    assert warnings_with(output, "Plant PV1 is declared under DM 16/9/2020 but entered service")
    assert warnings_with(output, "before 2020-03-01")


def test_a_dm_2020_plant_above_200_kw_is_flagged(run_case, example_case):
    example_case["plants"][0].update(regime="DM2020", power_kw="250")

    _, output = run_case(example_case)

    assert output["plants"]["PV1"]["incentive_eur"] == "3.52"
    assert warnings_with(output, "with 250 kW, but that regime admits plants up to 200 kW")


def test_no_dm_414_tariff_is_paid_for_hours_before_24_january_2024(run_case, example_case):
    example_case["plants"][0]["entry_into_service"] = "2023-06-01"
    example_case["hours"][0]["start"] = "2024-01-23T11:00:00+01:00"
    example_case["hours"][1]["start"] = "2024-01-24T11:00:00+01:00"

    _, output = run_case(example_case)

    # Only the second hour is paid: 10 kWh x min(120, 80 + 0) + 4 = 84 EUR/MWh = 0.84 EUR.
    # Both hours get the valorisation: 32 kWh x 10.57 EUR/MWh = 0.33824 EUR.
    assert output["plants"]["PV1"]["incentive_eur"] == "0.84"
    assert output["totals"]["valorisation_eur"] == "0.34"
    assert warnings_with(
        output, "Plant PV1: 1 hour(s) with shared energy before 2024-01-24, when DM 414/2023"
    )
    assert not warnings_with(output, "No value of tip_")


def test_injection_before_entry_into_service_is_left_out_of_shared_energy(run_case, example_case):
    example_case["plants"][0]["entry_into_service"] = "2024-06-03"
    example_case["hours"][0]["start"] = "2024-06-02T11:00:00+02:00"

    _, output = run_case(example_case)

    # The 30 kWh of 2 June are not shared; 3 June: 10 kWh x 84 EUR/MWh = 0.84 EUR.
    assert output["hours"][0]["shared_kwh"] == "0.000"
    assert output["totals"]["shared_kwh"] == "10.000"
    assert output["totals"]["injected_kwh"] == "10.000"
    assert output["plants"]["PV1"]["incentive_eur"] == "0.84"
    assert warnings_with(
        output, "Plant PV1 injected 30.000 kWh before its entry into service on 2024-06-03"
    )


@pytest.mark.parametrize(("kind", "warned"), [("AID", True), ("CER", False), ("AUC", False)])
def test_a_pnrr_grant_for_a_remote_self_consumer_is_flagged(run_case, example_case, kind, warned):
    example_case["configuration"]["type"] = kind
    example_case["plants"][0].update(capital_grant_pct="0", pnrr={"investment_eur": "50000"})

    _, output = run_case(example_case)

    assert bool(warnings_with(output, "Plant PV1 declares a PNRR grant, but")) is warned


def test_a_pnrr_plant_entering_service_after_2027_is_flagged(run_case, example_case):
    example_case["plants"][0].update(
        entry_into_service="2028-01-10", pnrr={"investment_eur": "50000"}
    )

    _, output = run_case(example_case)

    assert warnings_with(output, "enters service on 2028-01-10, after 2027-12-31")


def add_existing_plant(case, power_kw, **facts):
    old = dict(case["plants"][0], id="OLD", power_kw=power_kw, entry_into_service="2019-05-01")
    old.update(facts)
    case["plants"].append(old)


def test_existing_plants_above_30_percent_of_a_cers_power_are_flagged(run_case, example_case):
    example_case["plants"][0]["power_kw"] = "69"
    add_existing_plant(example_case, "31", existing=True)

    _, output = run_case(example_case)

    # 31 / (31 + 69) = 31 %, above 30 %.
    assert warnings_with(
        output, "Existing plants (OLD) have 31 kW of the configuration's 100 kW, 31 %, above"
    )


def test_existing_plants_at_exactly_30_percent_pass(run_case, example_case):
    example_case["plants"][0]["power_kw"] = "70"
    add_existing_plant(example_case, "30")

    _, output = run_case(example_case)

    assert not warnings_with(output, "Existing plants (")


def test_a_dm_2020_plant_does_not_count_as_existing(run_case, example_case):
    example_case["plants"][0]["power_kw"] = "10"
    add_existing_plant(example_case, "90", regime="DM2020", entry_into_service="2021-03-15")

    _, output = run_case(example_case)

    assert not warnings_with(output, "Existing plants (")


def test_declared_storage_is_read_as_specified_and_changes_no_figure(run_case, example_case):
    example_case["plants"][0].update(storage_power_kw="5", storage_capacity_kwh="10.5")

    _, output = run_case(example_case)

    assert output["plants"]["PV1"]["incentive_eur"] == "3.57"
    assert warnings_with(output, "Plant PV1 declares storage (5 kW, 10.5 kWh)")
    assert warnings_with(output, "REGULATION.md §3.4 [U]")


def test_the_losses_term_takes_each_points_voltage_level(run_case, example_case):
    example_case["configuration"]["type"] = "AUC"
    example_case["consumers"][1]["voltage_level"] = "MV"

    result, output = run_case(example_case)

    # (10.57 + 0.65) x 32 / 1000 = 0.35904 EUR. Losses, shared energy split by withdrawals:
    # 11:00: 140 x 22 x (0.026 x 7 + 0.012 x 15) / 22 / 1000 = 0.05068 EUR
    # 12:00: 190 x 10 x (0.026 x 8 + 0.012 x 10) / 18 / 1000 = 0.0346222... EUR
    expected = Fraction(35_904, 10**5) + Fraction(5_068, 10**5) + Fraction(6_232, 180_000)
    assert abs(result.valorisation_exact_eur - expected) < Fraction(1, 10**19)
    assert output["totals"]["valorisation_eur"] == "0.44"
    assert warnings_with(output, "0.026 for LV points, 0.012 for MV points")


def test_the_losses_term_with_only_lv_points_is_unchanged(run_case, example_case):
    example_case["configuration"]["type"] = "AUC"

    _, output = run_case(example_case)

    # valorisation.md: 0.35904 + 0.026 x 4.98 = 0.48852 EUR
    assert output["totals"]["valorisation_eur"] == "0.49"


def test_the_valorisation_formula_is_a_parameter_per_configuration_type(run_case, example_case):
    example_case["parameters"]["valorisation_formula"] = {"CER": "transmission_distribution"}

    _, output = run_case(example_case)

    # The E-R portal reading: (10.57 + 0.65) x 32 / 1000 = 0.35904 EUR, no losses term.
    assert output["totals"]["valorisation_eur"] == "0.36"
    assert not warnings_with(output, "avoided-losses")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda case: case["parameters"].update(valorisation_formula={"XYZ": "transmission"}),
            "parameters.valorisation_formula.XYZ: not a configuration type",
        ),
        (
            lambda case: case["parameters"].update(valorisation_formula={"CER": "flat"}),
            "parameters.valorisation_formula.CER: expected one of transmission",
        ),
        (
            lambda case: case["consumers"][0].update(voltage_level="XV"),
            'consumers[0].voltage_level: "XV" is not one of LV, MV, HV',
        ),
        (
            lambda case: case["plants"][0].update(storage_capacity_kwh="-1"),
            "plants[0].storage_capacity_kwh",
        ),
    ],
)
def test_bad_new_inputs_are_refused_naming_the_key(example_case, tmp_path, change, message):
    change(example_case)

    with pytest.raises(CaseError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_case(example_case, base_dir=tmp_path)
