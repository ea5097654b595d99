"""Each eligibility rule on plain values, with the edges of every threshold."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import translation

from cer.plants.eligibility import (
    CheckResult,
    CommunityFacts,
    Outcome,
    PlantFacts,
    Rule,
    Status,
    check_area,
    check_entry_date,
    check_existing_share,
    check_incentivised_share,
    check_plant,
    check_power,
    check_pv_region,
    check_regime,
    check_substation,
    explain,
    overall_status,
)

PLANT = PlantFacts(
    power_kw=Decimal("60"),
    entry_into_service_date=dt.date(2024, 11, 5),
    regime="DM414",
    source="PV",
    region="",
    primary_substation="AC001E01234",
)
COMMUNITY = CommunityFacts(
    community_kind="CER",
    primary_substation="AC001E01234",
    region="Veneto",
    existing_power_kw=Decimal(0),
    total_power_kw=Decimal("60"),
)


IN_SPINEA = replace(
    PLANT, region="Veneto", municipality_code="027038", municipality_name="Spinea (VE)"
)
SPINEA_AREA = frozenset({"027038", "027024"})


def plant(**changes: object) -> PlantFacts:
    return replace(PLANT, **changes)


def community(**changes: object) -> CommunityFacts:
    return replace(COMMUNITY, **changes)


@pytest.mark.parametrize(
    ("power_kw", "outcome"),
    [
        ("999.999", Outcome.PASS),
        ("1000", Outcome.PASS),
        ("1000.000", Outcome.PASS),
        ("1000.001", Outcome.FAIL),
        ("1500", Outcome.FAIL),
    ],
)
def test_power_limit_is_one_megawatt_inclusive(power_kw, outcome):
    result = check_power(plant(power_kw=Decimal(power_kw)))

    assert result.outcome == outcome


@pytest.mark.parametrize(
    ("day", "outcome", "variant"),
    [
        (dt.date(2021, 12, 15), Outcome.LIMITED, "existing"),
        (dt.date(2021, 12, 16), Outcome.TO_CHECK, "between"),
        (dt.date(2024, 1, 23), Outcome.TO_CHECK, "between"),
        (dt.date(2024, 1, 24), Outcome.PASS, "new"),
        (dt.date(2024, 1, 25), Outcome.PASS, "new"),
    ],
)
def test_entry_into_service_splits_existing_transitional_and_new_plants(day, outcome, variant):
    result = check_entry_date(plant(entry_into_service_date=day))

    assert (result.outcome, result.variant) == (outcome, variant)


def test_an_existing_plant_earns_the_valorisation_only():
    result = check_entry_date(plant(entry_into_service_date=dt.date(2019, 5, 1)))

    with translation.override("en"):
        assert "valorisation only" in explain(result)


def test_a_transitional_plant_asks_for_documents():
    result = check_entry_date(plant(entry_into_service_date=dt.date(2023, 6, 1)))

    with translation.override("en"):
        assert "documents" in explain(result)


def test_dm2020_plant_leaves_timing_to_the_regime_rule():
    result = check_entry_date(plant(regime="DM2020", entry_into_service_date=dt.date(2023, 6, 1)))

    assert result.outcome == Outcome.PASS


def test_a_dm2020_plant_in_service_before_the_2021_cut_off_is_not_existing():
    result = check_entry_date(plant(regime="DM2020", entry_into_service_date=dt.date(2021, 3, 15)))

    # The 16 Dec 2021 cut-off belongs to the DM 414 regime only (REGULATION.md §1).
    assert (result.outcome, result.variant) == (Outcome.PASS, "dm2020")


@pytest.mark.parametrize(
    ("power_kw", "outcome"),
    [("200", Outcome.PASS), ("200.001", Outcome.FAIL)],
)
def test_dm2020_admits_plants_up_to_200_kw(power_kw, outcome):
    result = check_regime(
        plant(
            regime="DM2020", power_kw=Decimal(power_kw), entry_into_service_date=dt.date(2023, 1, 1)
        ),
        community(gse_request_date=dt.date(2024, 3, 1)),
    )

    assert result.outcome == outcome


@pytest.mark.parametrize(
    ("request_date", "outcome"),
    [
        (dt.date(2024, 4, 24), Outcome.PASS),
        (dt.date(2024, 4, 25), Outcome.FAIL),
        (None, Outcome.TO_CHECK),
    ],
)
def test_dm2020_requests_were_accepted_until_24_april_2024(request_date, outcome):
    result = check_regime(
        plant(regime="DM2020", entry_into_service_date=dt.date(2023, 1, 1)),
        community(gse_request_date=request_date),
    )

    assert result.outcome == outcome


def test_dm2020_cannot_cover_a_plant_in_service_after_the_deadline():
    result = check_regime(
        plant(regime="DM2020", entry_into_service_date=dt.date(2024, 4, 25)),
        community(gse_request_date=dt.date(2024, 3, 1)),
    )

    assert (result.outcome, result.variant) == (Outcome.FAIL, "dm2020_late_plant")


def test_dm414_regime_passes_the_regime_rule():
    assert check_regime(plant(), community()).outcome == Outcome.PASS


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("AC001E01234", Outcome.PASS),
        (" ac001e01234 ", Outcome.PASS),
        ("AC001E09999", Outcome.FAIL),
        ("", Outcome.TO_CHECK),
    ],
)
def test_plant_must_be_under_the_configurations_primary_substation(code, outcome):
    result = check_substation(plant(primary_substation=code), community())

    assert result.outcome == outcome


@pytest.mark.parametrize(
    ("existing_kw", "outcome"),
    [("29.9", Outcome.PASS), ("30", Outcome.PASS), ("30.1", Outcome.FAIL)],
)
def test_existing_plants_may_reach_thirty_percent_of_a_cer(existing_kw, outcome):
    existing_plant = plant(entry_into_service_date=dt.date(2020, 1, 1))

    result = check_existing_share(
        existing_plant,
        community(existing_power_kw=Decimal(existing_kw), total_power_kw=Decimal("100")),
    )

    assert result.outcome == outcome


def test_share_is_reported_with_one_decimal():
    result = check_existing_share(
        plant(entry_into_service_date=dt.date(2020, 1, 1)),
        community(existing_power_kw=Decimal("30.1"), total_power_kw=Decimal("100")),
    )

    assert result.values["share_pct"] == "30.1"


def test_a_new_plant_does_not_fail_for_the_existing_plants_share():
    result = check_existing_share(
        plant(), community(existing_power_kw=Decimal("50"), total_power_kw=Decimal("100"))
    )

    assert (result.outcome, result.variant) == (Outcome.PASS, "over_not_this")


def test_thirty_percent_limit_does_not_apply_to_a_group_of_self_consumers():
    result = check_existing_share(
        plant(entry_into_service_date=dt.date(2020, 1, 1)),
        community(
            community_kind="AUC", existing_power_kw=Decimal("90"), total_power_kw=Decimal("100")
        ),
    )

    assert result.outcome == Outcome.PASS


def test_superbonus_and_obligation_shares_reduce_the_incentivised_share():
    result = check_incentivised_share(
        plant(power_kw=Decimal("40"), superbonus_kw=Decimal("10"), obligation_kw=Decimal("5"))
    )

    assert result.outcome == Outcome.LIMITED
    assert result.values["incentivised_pct"] == "62.5"


def test_whole_power_is_incentivised_without_superbonus_or_obligation():
    assert check_incentivised_share(plant()).outcome == Outcome.PASS


def test_superbonus_above_twenty_kw_is_to_check():
    result = check_incentivised_share(plant(superbonus_kw=Decimal("20.001")))

    assert result.outcome == Outcome.TO_CHECK


@pytest.mark.parametrize(
    ("region", "correction"),
    [("Veneto", "10"), ("Toscana", "4"), ("Sicilia", "0")],
)
def test_photovoltaic_plant_gets_the_regional_correction_of_its_region(region, correction):
    result = check_pv_region(plant(region=region), community(region=region))

    assert result.outcome == Outcome.PASS
    assert result.values["correction_eur_per_mwh"] == correction


def test_photovoltaic_plant_without_a_region_never_takes_the_configurations():
    result = check_pv_region(plant(region=""), community(region="Lazio"))

    assert result.outcome == Outcome.TO_CHECK
    assert result.values["region"] == ""


def test_photovoltaic_plant_in_another_region_gets_its_own_regions_correction():
    # A plant in Spinea (Veneto) under a configuration in Puglia: Veneto's 10, not Puglia's 0.
    result = check_pv_region(plant(region="Veneto"), community(region="Puglia"))

    assert result.outcome == Outcome.PASS
    assert result.values["correction_eur_per_mwh"] == "10"


def test_photovoltaic_plant_with_no_region_known_is_to_check():
    result = check_pv_region(plant(region=""), community(region=""))

    assert result.outcome == Outcome.TO_CHECK


def test_wind_plant_needs_no_region():
    result = check_pv_region(plant(source="WIND", region=""), community(region=""))

    assert result.outcome == Outcome.PASS


def test_a_plant_meeting_every_rule_is_eligible():
    results = check_plant(IN_SPINEA, community(area_municipality_codes=SPINEA_AREA))

    assert overall_status(results) == Status.ELIGIBLE
    assert [r.rule for r in results] == list(Rule)


def test_one_failure_makes_the_plant_not_eligible_even_with_open_points():
    results = check_plant(plant(power_kw=Decimal("1000.001"), primary_substation=""), community())

    assert overall_status(results) == Status.NOT_ELIGIBLE


def test_an_open_point_without_failures_leaves_the_plant_to_check():
    results = check_plant(plant(entry_into_service_date=dt.date(2023, 1, 1)), community())

    assert overall_status(results) == Status.TO_CHECK


def test_limited_results_keep_the_plant_eligible():
    results = check_plant(
        replace(IN_SPINEA, superbonus_kw=Decimal("5")),
        community(area_municipality_codes=SPINEA_AREA),
    )

    assert overall_status(results) == Status.ELIGIBLE


def test_every_result_explains_itself_and_survives_json():
    cases = [
        check_plant(plant(), community()),
        check_plant(
            plant(
                power_kw=Decimal("1200"),
                regime="DM2020",
                entry_into_service_date=dt.date(2020, 6, 1),
                primary_substation="AC001E00000",
                superbonus_kw=Decimal("30"),
                region="Lazio",
            ),
            community(existing_power_kw=Decimal("1200"), total_power_kw=Decimal("1300")),
        ),
    ]

    for results in cases:
        for result in results:
            restored = CheckResult.from_json(result.as_json())
            with translation.override("it"):
                text = explain(restored)
            assert restored == result
            assert text and "%(" not in text


@pytest.mark.parametrize(
    ("place", "configuration_region", "area", "outcome", "variant"),
    [
        (("027038", "Veneto"), "Veneto", SPINEA_AREA, Outcome.PASS, "in_area"),
        (("027042", "Veneto"), "Veneto", SPINEA_AREA, Outcome.FAIL, "outside_area"),
        (("027038", "Veneto"), "Puglia", None, Outcome.FAIL, "other_zone"),
        (("020030", "Lombardia"), "Veneto", None, Outcome.TO_CHECK, "other_region"),
        (("027038", "Veneto"), "Veneto", None, Outcome.TO_CHECK, "area_unknown"),
        (("", ""), "Veneto", SPINEA_AREA, Outcome.TO_CHECK, "place_unknown"),
    ],
)
def test_the_area_rule_knows_the_area_only_from_the_imported_list(
    place, configuration_region, area, outcome, variant
):
    code, region = place
    facts = plant(region=region, municipality_code=code, municipality_name="X")

    result = check_area(facts, community(region=configuration_region, area_municipality_codes=area))

    assert (result.outcome, result.variant) == (outcome, variant)


def test_a_plant_in_spinea_under_a_bari_configuration_is_not_eligible_with_venetos_correction():
    bari = community(region="Puglia", primary_substation="AC001E01234")

    results = {r.rule: r for r in check_plant(IN_SPINEA, bari)}

    assert results[Rule.AREA].outcome == Outcome.FAIL
    assert results[Rule.PV_REGION].values["correction_eur_per_mwh"] == "10"
    with translation.override("en"):
        assert "Spinea (VE) is in Veneto" in explain(results[Rule.AREA])


def test_an_existing_plant_is_not_promised_the_tariff_by_the_regime_row():
    existing = plant(entry_into_service_date=dt.date(2020, 5, 1))

    result = check_regime(existing, community())

    assert result.outcome == Outcome.LIMITED
    with translation.override("en"):
        assert "no incentive tariff" in explain(result)
