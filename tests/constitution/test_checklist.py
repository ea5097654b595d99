"""The legal checklist of a community being constituted (REGULATION.md §3.6, §9)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cer.constitution.checklist import (
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


def member(name="Anna", category="HOUSEHOLD", place=SPINEA):
    return MemberFacts(name, category, *place)


def plant(name="FV", power="19.8", entry=dt.date(2024, 11, 5), place=SPINEA):
    return PlantFacts(name, Decimal(power), entry, *place)


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
    }
    fields.update(overrides)
    return ConstitutionFacts(**fields)


def statuses(facts):
    return {requirement.code: requirement.status for requirement in evaluate(facts)}


def test_a_small_new_cer_of_households_meets_every_requirement():
    result = statuses(cer())

    assert set(result.values()) == {Status.MET}
    assert set(result) == {
        "LEGAL_ENTITY",
        "CONTROL",
        "PRIMARY_SUBSTATION",
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

    assert counts == {"MET": 3, "NOT_MET": 1, "TO_CHECK": 4}
