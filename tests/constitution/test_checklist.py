"""The legal checklist of a community being constituted (REGULATION.md §3.6, §9)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import translation

from cer.constitution.checklist import (
    ConfigurationFacts,
    ConstitutionFacts,
    MemberFacts,
    PlantFacts,
    PointFacts,
    Status,
    evaluate,
    summary,
)

SPINEA = ("027038", "Spinea")
MIRANO = ("027024", "Mirano")


def member(name="Anna", category="HOUSEHOLD", place=SPINEA, region="Veneto", code="A"):
    return MemberFacts(name, category, *place, region=region, fiscal_code=code)


def plant(name="FV", power="19.8", entry=dt.date(2024, 11, 5), place=SPINEA, region="Veneto"):
    return PlantFacts(name, Decimal(power), entry, *place, region=region, primary_substation="AC1")


def configuration(region="Veneto", zone="NORD", code="AC1"):
    return ConfigurationFacts("Cabina", code, region, zone)


def point(
    pod="IT001E00000001", holder="A", substation="AC1", withdraws=True, injects=True, building=""
):
    return PointFacts(pod, holder, substation, withdraws, injects, building)


def cer(**overrides):
    fields = {
        "kind": "CER",
        "legal_form": "THIRD_SECTOR",
        "members": [member()],
        "primary_substations": ["AC1"],
        "points": [point()],
        "plants": [plant()],
        "configurations": [configuration()],
    }
    fields.update(overrides)
    return ConstitutionFacts(**fields)


def statuses(facts):
    return {requirement.code: requirement.status for requirement in evaluate(facts)}


def test_a_small_new_cer_of_households_meets_every_requirement_but_the_unknown_area():
    result = statuses(cer())

    # The wizard never knows which municipalities a substation serves: always to verify.
    assert result.pop("AREA") == Status.TO_CHECK
    assert set(result.values()) == {Status.MET}
    assert set(result) == {
        "LEGAL_ENTITY",
        "CONTROL",
        "PRIMARY_SUBSTATION",
        "MARKET_ZONE",
        "PLANT_POWER",
        "PLANT_DATES",
        "ENTERPRISE_ACTIVITY",
        "MEMBER_MUNICIPALITIES",
        "EXISTING_SHARE",
    }


def test_every_requirement_names_the_rule_it_comes_from():
    legal_acts = ("D.Lgs.", "DM ", "L. ", "TIAD", "GSE")
    for requirement in evaluate(cer()):
        assert any(act in requirement.rule for act in legal_acts), requirement.rule


def test_a_cer_without_a_legal_entity_is_not_met():
    assert statuses(cer(legal_form="NONE"))["LEGAL_ENTITY"] == Status.NOT_MET


def test_large_enterprises_may_not_control_a_cer():
    half = [member(), member("Big Spa", "LARGE_ENTERPRISE")]
    minority = [member(), member("B"), member("Big Spa", "LARGE_ENTERPRISE")]

    assert statuses(cer(members=half))["CONTROL"] == Status.NOT_MET
    assert statuses(cer(members=minority))["CONTROL"] == Status.TO_CHECK


def test_an_sme_leaves_its_main_activity_to_check():
    result = evaluate(cer(members=[member(), member("Forno Srl", "SME")]))

    activity = next(r for r in result if r.code == "ENTERPRISE_ACTIVITY")
    assert activity.status == Status.TO_CHECK
    assert "Forno Srl" in str(activity.explanation)


def test_a_member_outside_the_plants_municipalities_is_not_met():
    result = evaluate(cer(members=[member(), member("Lontano", place=MIRANO)]))

    requirement = next(r for r in result if r.code == "MEMBER_MUNICIPALITIES")
    assert requirement.status == Status.NOT_MET
    assert "Lontano" in str(requirement.explanation)


def test_without_plants_the_plant_rules_are_to_check():
    result = statuses(cer(plants=[]))

    assert result["MEMBER_MUNICIPALITIES"] == Status.TO_CHECK
    assert result["PLANT_POWER"] == Status.TO_CHECK
    assert result["EXISTING_SHARE"] == Status.TO_CHECK


def test_existing_plants_at_exactly_thirty_percent_are_allowed():
    plants = [plant("old", "30", dt.date(2020, 1, 1)), plant("new", "70")]

    assert statuses(cer(plants=plants))["EXISTING_SHARE"] == Status.MET


def test_existing_plants_above_thirty_percent_are_not_met():
    plants = [plant("old", "30.001", dt.date(2021, 12, 15)), plant("new", "70")]

    assert statuses(cer(plants=plants))["EXISTING_SHARE"] == Status.NOT_MET


def test_a_plant_from_the_day_the_decree_took_effect_is_not_existing():
    plants = [
        plant("new", "100", dt.date(2024, 1, 24)),
        plant("border", "100", dt.date(2021, 12, 16)),
    ]

    result = statuses(cer(plants=plants))

    assert result["EXISTING_SHARE"] == Status.MET
    assert result["PLANT_DATES"] == Status.TO_CHECK


def test_a_plant_above_one_megawatt_is_not_met_and_one_megawatt_is_allowed():
    assert statuses(cer(plants=[plant(power="1000")]))["PLANT_POWER"] == Status.MET
    assert statuses(cer(plants=[plant(power="1000.001")]))["PLANT_POWER"] == Status.NOT_MET


def test_a_substation_without_injecting_points_is_to_check():
    points = [point(injects=False)]

    assert statuses(cer(points=points))["PRIMARY_SUBSTATION"] == Status.TO_CHECK


def test_no_primary_substation_is_not_met():
    assert statuses(cer(primary_substations=[]))["PRIMARY_SUBSTATION"] == Status.NOT_MET


def test_a_group_of_self_consumers_lives_under_one_substation_and_in_one_building():
    same = [
        point(building="Condominio Aurora"),
        point("IT001E00000002", building="condominio aurora"),
    ]
    apart = [point(building="Aurora"), point("IT001E00000002", building="Borea")]
    auc = {"kind": "AUC", "legal_form": "CONDOMINIUM"}

    assert statuses(cer(**auc, points=same))["ONE_BUILDING"] == Status.MET
    assert statuses(cer(**auc, points=apart))["ONE_BUILDING"] == Status.NOT_MET
    assert statuses(cer(**auc, points=[point()]))["ONE_BUILDING"] == Status.TO_CHECK
    assert statuses(cer(**auc, primary_substations=["AC1", "AC2"]))["PRIMARY_SUBSTATION"] == (
        Status.NOT_MET
    )
    assert "LEGAL_ENTITY" not in statuses(cer(**auc))


def test_a_remote_self_consumer_is_one_final_customer():
    one = [point(holder="A"), point("IT001E00000002", holder="B", withdraws=False)]
    two = [point(holder="A"), point("IT001E00000002", holder="B")]
    aid = {"kind": "AID", "legal_form": "NONE"}

    assert statuses(cer(**aid, points=one))["ONE_CUSTOMER"] == Status.MET
    assert statuses(cer(**aid, points=two))["ONE_CUSTOMER"] == Status.NOT_MET


def test_a_cec_is_checked_for_its_legal_entity_and_control_but_not_for_municipalities():
    result = statuses(cer(kind="CEC"))

    assert "LEGAL_ENTITY" in result
    assert "CONTROL" in result
    assert "MEMBER_MUNICIPALITIES" not in result


def test_the_summary_counts_requirements_by_status():
    counts = summary(evaluate(cer(legal_form="NONE", plants=[])))

    assert counts == {"MET": 4, "NOT_MET": 1, "TO_CHECK": 5}


def test_a_market_zone_outside_the_region_is_not_met():
    result = evaluate(cer(configurations=[configuration(region="Puglia", zone="NORD")]))

    zone = next(r for r in result if r.code == "MARKET_ZONE")
    assert zone.status == Status.NOT_MET
    assert "Puglia" in str(zone.explanation)


def test_a_region_split_between_zones_leaves_the_zone_to_verify(monkeypatch):
    split = {"Veneto": frozenset({"NORD", "CNOR"})}
    monkeypatch.setattr("cer.communities.zones.ZONES_BY_REGION", split)

    with translation.override("en"):
        zone = next(r for r in evaluate(cer()) if r.code == "MARKET_ZONE")

    assert zone.status == Status.TO_CHECK
    assert "To verify" in str(zone.explanation)


def test_a_plant_in_another_market_zone_than_its_configuration_is_not_met():
    bari = configuration(region="Puglia", zone="SUD")

    area = next(r for r in evaluate(cer(configurations=[bari])) if r.code == "AREA")

    assert area.status == Status.NOT_MET
    assert "Spinea" in str(area.explanation)


def test_a_plant_in_a_neighbouring_region_of_the_same_zone_is_to_verify():
    mantua = plant(place=("020030", "Mantova"), region="Lombardia")

    area = next(r for r in evaluate(cer(plants=[mantua])) if r.code == "AREA")

    assert area.status == Status.TO_CHECK
    assert "Mantova" in str(area.explanation)


def test_a_member_living_in_another_zone_is_only_to_verify():
    # Where a member lives need not be where their point is.
    away = member(place=("072006", "Bari"), region="Puglia")

    area = next(r for r in evaluate(cer(members=[away])) if r.code == "AREA")

    assert area.status == Status.TO_CHECK
    assert "Bari" in str(area.explanation)
