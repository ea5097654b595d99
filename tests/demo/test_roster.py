import re
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from schwifty import IBAN
from stdnum.it import codicefiscale, iva

from cer.demo import build_roster
from cer.demo import roster as demo_roster
from cer.demo.roster import codice_fiscale, numeric_fiscal_code

POD_PATTERN = re.compile(r"^IT\d{3}E\d{8}$")


@pytest.fixture(scope="module")
def roster():
    return build_roster(2025)


def _natural_persons(roster):
    return [member for member in roster.members if not member.is_legal_person]


def _legal_persons(roster):
    return [member for member in roster.members if member.is_legal_person]


# --------------------------------------------------------------------------- identifiers


def test_codice_fiscale_matches_the_textbook_example():
    code = codice_fiscale(
        last_name="Rossi",
        first_name="Mario",
        birth_date=date(1980, 1, 1),
        sex="M",
        birth_place_code="H501",
    )

    assert code == "RSSMRA80A01H501U"


def test_codice_fiscale_handles_short_surnames_accents_apostrophes_and_women():
    short = codice_fiscale(
        last_name="Fo", first_name="Niccolò", birth_date=date(1975, 8, 3), sex="M",
        birth_place_code="L736",
    )  # fmt: skip
    apostrophe = codice_fiscale(
        last_name="D'Este", first_name="Francesca", birth_date=date(1990, 12, 31), sex="F",
        birth_place_code="F241",
    )  # fmt: skip

    assert short.startswith("FOXNCL75M03L736")
    assert apostrophe.startswith("DSTFNC90T71F241")
    assert codicefiscale.is_valid(short)
    assert codicefiscale.is_valid(apostrophe)


def test_numeric_fiscal_code_carries_a_valid_check_digit():
    code = numeric_fiscal_code(1234567)

    assert len(code) == 11
    assert code.startswith("1234567027")
    assert iva.is_valid(code)


def test_every_codice_fiscale_is_valid_and_encodes_birth_date_and_sex(roster):
    for member in _natural_persons(roster):
        assert codicefiscale.is_valid(member.fiscal_code), member.key
        assert codicefiscale.get_birth_date(member.fiscal_code) == member.birth_date
        assert codicefiscale.get_gender(member.fiscal_code) == member.sex


def test_every_codice_fiscale_is_unique(roster):
    codes = [member.fiscal_code for member in roster.members]

    assert len(codes) == len(set(codes))


def test_every_legal_person_has_a_valid_fiscal_code_and_partita_iva(roster):
    for member in _legal_persons(roster):
        assert iva.is_valid(member.fiscal_code), member.key
        if member.vat_number is not None:
            assert iva.is_valid(member.vat_number), member.key

    assert iva.is_valid(roster.community.fiscal_code)


def test_companies_use_their_partita_iva_as_fiscal_code(roster):
    for member in roster.members:
        if member.category == demo_roster.SME:
            assert member.vat_number == member.fiscal_code


def test_every_iban_is_a_valid_italian_iban(roster):
    for member in roster.members:
        iban = IBAN(member.iban)

        assert iban.country_code == "IT"
        assert iban.length == 27
        assert iban.is_valid


def test_every_pod_has_the_italian_format_and_is_unique(roster):
    pods = [point.pod for point in roster.connection_points]

    assert all(POD_PATTERN.match(pod) for pod in pods)
    assert len(pods) == len(set(pods))


# --------------------------------------------------------------------------- members


def test_community_has_about_forty_members(roster):
    assert 38 <= len(roster.members) <= 42


def test_members_cover_households_businesses_and_public_bodies(roster):
    categories = Counter(member.category for member in roster.members)

    assert set(categories) <= set(demo_roster.CATEGORIES)
    assert categories[demo_roster.HOUSEHOLD] >= 30
    assert categories[demo_roster.SME] == 2
    assert categories[demo_roster.PUBLIC_BODY] == 1
    assert categories[demo_roster.RELIGIOUS_BODY] == 1
    assert categories[demo_roster.THIRD_SECTOR] == 1


def test_there_is_one_referente_and_one_or_two_administrators(roster):
    roles = Counter(member.role for member in roster.members)

    assert roles[demo_roster.REFERENTE] == 1
    assert 1 <= roles[demo_roster.ADMINISTRATOR] <= 2
    assert set(roles) == {demo_roster.REFERENTE, demo_roster.ADMINISTRATOR, demo_roster.MEMBER}


def test_membership_kind_follows_the_plants_behind_each_meter(roster):
    plant_owners = {plant.owner_key for plant in roster.plants}

    for member in roster.members:
        if member.key in plant_owners:
            assert member.membership_kind in (demo_roster.PRODUCER, demo_roster.PROSUMER)
        else:
            assert member.membership_kind == demo_roster.CONSUMER
    kinds = {member.membership_kind for member in roster.members}
    assert kinds == {demo_roster.CONSUMER, demo_roster.PRODUCER, demo_roster.PROSUMER}


def test_only_legal_persons_have_a_pec_and_a_legal_name(roster):
    for member in _legal_persons(roster):
        assert member.pec and member.pec.endswith("@pec.example.org")
        assert member.legal_name and member.legal_representative
    for member in _natural_persons(roster):
        assert member.pec is None
        assert member.first_name and member.last_name and member.birth_date


def test_emails_use_the_reserved_example_domain_and_are_unique(roster):
    emails = [member.email for member in roster.members]

    assert all(email.endswith("@example.org") for email in emails)
    assert len(emails) == len(set(emails))


def test_every_address_lies_in_a_municipality_of_the_configuration(roster):
    allowed = set(roster.configuration.istat_codes)

    for member in roster.members:
        assert member.address.istat_code in allowed
        assert member.connection_point.address.istat_code in allowed
    assert roster.community.seat.istat_code == "027038"


def test_contracted_powers_match_the_kind_of_member(roster):
    for member in roster.members:
        point = member.connection_point
        if member.category == demo_roster.HOUSEHOLD:
            assert point.contracted_power_kw in {Decimal("3"), Decimal("4.5"), Decimal("6")}
        elif member.category == demo_roster.SME:
            assert Decimal("30") <= point.contracted_power_kw <= Decimal("100")
    assert roster.member("municipality").connection_point.contracted_power_kw == Decimal("50")
    assert roster.member("parish").connection_point.contracted_power_kw == Decimal("15")
    assert roster.member("metalwork").connection_point.voltage == demo_roster.MEDIUM_VOLTAGE


def test_household_annual_consumption_lies_between_1800_and_4500_kwh(roster):
    for member in roster.members:
        load = member.connection_point.load
        if load.profile == demo_roster.LOAD_HOUSEHOLD:
            assert 1800 <= load.annual_kwh <= 4500


def test_members_join_on_or_after_the_founding_date(roster):
    for member in roster.members:
        assert roster.community.founded_date <= member.joined_date < date(2026, 1, 1)


# --------------------------------------------------------------------------- community and plants


def test_community_is_a_cer_in_zone_nord_founded_in_september_2024(roster):
    assert roster.community.kind == "CER"
    assert roster.community.founded_date == date(2024, 9, 12)
    assert roster.configuration.market_zone == "NORD"
    assert roster.configuration.region == "Veneto"
    assert "027038" in roster.configuration.istat_codes


def test_there_are_exactly_four_plants_with_distinct_entry_dates(roster):
    dates = [plant.entry_into_service_date for plant in roster.plants]

    assert len(roster.plants) == 4
    assert len(set(dates)) == 4


def test_exactly_one_plant_predates_2021(roster):
    existing = [p for p in roster.plants if p.entry_into_service_date < date(2021, 1, 1)]

    assert len(existing) == 1
    assert existing[0].entry_into_service_date == date(2019, 6, 15)


def test_every_plant_sits_behind_its_owners_connection_point(roster):
    for plant in roster.plants:
        owner = roster.member(plant.owner_key)

        assert owner.connection_point.pod == plant.pod
        assert plant.source == "PV"
        assert plant.power_kw > 0
        assert plant.superbonus_kw + plant.obligation_kw <= plant.power_kw
        assert Decimal("0") <= plant.capital_grant_pct <= Decimal("100")


def test_parish_plant_has_a_ten_kwh_battery_and_the_school_a_pnrr_grant(roster):
    plants = {plant.key: plant for plant in roster.plants}

    assert plants["pv-parish"].power_kw == Decimal("19.80")
    assert plants["pv-parish"].storage_capacity_kwh == Decimal("10.00")
    assert plants["pv-school"].capital_grant_pct == Decimal("40")
    assert plants["pv-school"].entry_into_service_date == date(2024, 11, 5)


def test_same_seed_gives_the_same_roster_and_another_seed_a_different_one(roster):
    assert build_roster(2025) == roster
    assert build_roster(7) != roster
