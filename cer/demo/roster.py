"""The people, bodies, meters and plants of the demo energy community.

A fictional CER in Spinea (Venezia), under one primary substation, in market
zone NORD. Every identifier is synthetic but well formed: codici fiscali are
computed from name, birth date, sex and birthplace with the official check
character; 11-digit fiscal codes and partite IVA carry a valid Luhn check
digit; IBANs have valid CIN and ISO 7064 check digits; POD codes follow the
distributor format. Names are drawn from a seeded generator, so the same seed
always gives the same roster. Emails use the reserved ``example.org`` domain.

Municipality ISTAT and cadastral codes were checked against the ISTAT
municipality archive (1 Jan 2020).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from schwifty import IBAN
from stdnum import luhn
from stdnum.it import codicefiscale

DEMO_YEAR = 2025

# Category codes of members (stable, upper case).
HOUSEHOLD = "HOUSEHOLD"
SME = "SME"
LARGE_ENTERPRISE = "LARGE_ENTERPRISE"
PUBLIC_BODY = "PUBLIC_BODY"
RELIGIOUS_BODY = "RELIGIOUS_BODY"
THIRD_SECTOR = "THIRD_SECTOR"
RESEARCH_BODY = "RESEARCH_BODY"
CATEGORIES = (
    HOUSEHOLD,
    SME,
    LARGE_ENTERPRISE,
    PUBLIC_BODY,
    RELIGIOUS_BODY,
    THIRD_SECTOR,
    RESEARCH_BODY,
)

# Roles in the community.
REFERENTE = "REFERENTE"
ADMINISTRATOR = "ADMINISTRATOR"
MEMBER = "MEMBER"

# What a member's connection point does.
CONSUMER = "CONSUMER"
PRODUCER = "PRODUCER"
PROSUMER = "PROSUMER"

# Load profile codes understood by ``cer.demo.community``.
LOAD_HOUSEHOLD = "HOUSEHOLD"
LOAD_BAKERY = "BAKERY"
LOAD_METALWORK = "METALWORK"
LOAD_SCHOOL = "SCHOOL"
LOAD_PARISH = "PARISH"
LOAD_ASSOCIATION = "ASSOCIATION"
LOAD_AUXILIARY = "AUXILIARY"

# Voltage levels of a connection point.
LOW_VOLTAGE = "LV"
MEDIUM_VOLTAGE = "MV"

# e-distribuzione's distributor code inside a POD.
E_DISTRIBUZIONE = "001"

# Venezia's provincial office code, the 8th–10th digits of fiscal codes and
# partite IVA issued there.
_VENEZIA_OFFICE_CODE = "027"


@dataclass(frozen=True)
class Municipality:
    """An Italian municipality as listed by ISTAT."""

    istat_code: str
    name: str
    cadastral_code: str
    province_abbr: str
    postal_code: str


SPINEA = Municipality("027038", "Spinea", "I908", "VE", "30038")
MIRANO = Municipality("027024", "Mirano", "F241", "VE", "30035")
MARTELLAGO = Municipality("027021", "Martellago", "E980", "VE", "30030")
# Chirignago, the part of Venezia bordering Spinea.
VENEZIA = Municipality("027042", "Venezia", "L736", "VE", "30174")

# Birthplaces by cadastral code: local hospitals (Mestre, Mirano, Dolo),
# nearby cities, two southern cities and Romania (foreign states use Z codes).
_BIRTHPLACES = (
    ("L736", 0.34),  # Venezia
    ("F241", 0.22),  # Mirano
    ("D325", 0.10),  # Dolo
    ("G224", 0.08),  # Padova
    ("L407", 0.06),  # Treviso
    ("I908", 0.06),  # Spinea
    ("F904", 0.04),  # Noale
    ("F839", 0.04),  # Napoli
    ("A662", 0.03),  # Bari
    ("Z129", 0.03),  # Romania
)


@dataclass(frozen=True)
class Address:
    """A postal address; ``istat_code`` identifies the municipality."""

    street: str
    postal_code: str
    municipality: str
    istat_code: str
    province_abbr: str


@dataclass(frozen=True)
class CommunitySpec:
    """The energy community as a legal entity.

    ``kind`` is CER; ``legal_form`` ASSOCIATION; ``third_sector_entity`` says it
    is registered as an ETS; ``fiscal_code`` is its 11-digit codice fiscale.
    """

    name: str
    kind: str
    legal_form: str
    third_sector_entity: bool
    fiscal_code: str
    seat: Address
    email: str
    pec: str
    founded_date: date


@dataclass(frozen=True)
class ConfigurationSpec:
    """One configuration: the connection points under one primary substation."""

    name: str
    primary_substation_code: str
    market_zone: str
    region: str
    region_code: str
    istat_codes: tuple[str, ...]


@dataclass(frozen=True)
class LoadSpec:
    """How the demo generates a connection point's consumption behind the meter.

    ``profile`` is one of the LOAD_* codes; ``annual_kwh`` [kWh] is the
    yearly consumption before any self-consumption from an on-site plant.
    """

    profile: str
    annual_kwh: int
    has_air_conditioning: bool = False
    away_in_august: bool = False


@dataclass(frozen=True)
class ConnectionPointSpec:
    """A member's point of delivery (POD) on the distribution grid."""

    pod: str
    distributor_code: str
    voltage: str
    contracted_power_kw: Decimal
    address: Address
    load: LoadSpec


@dataclass(frozen=True)
class MemberSpec:
    """A member of the community with its single connection point.

    Natural persons have ``first_name``, ``last_name``, ``birth_date``,
    ``sex`` (M/F) and ``birth_place_code`` (cadastral code); legal persons
    have ``legal_name``, ``vat_number`` (partita IVA, when they have one),
    ``pec`` and ``legal_representative``. ``fiscal_code`` is the 16-character
    codice fiscale of a person or the 11-digit one of an entity.
    """

    key: str
    category: str
    role: str
    membership_kind: str
    is_legal_person: bool
    display_name: str
    fiscal_code: str
    email: str
    phone: str
    address: Address
    iban: str  # the membership's: the account the demo community pays the member to
    joined_date: date
    connection_point: ConnectionPointSpec
    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    birth_place_code: str | None = None
    legal_name: str | None = None
    vat_number: str | None = None
    pec: str | None = None
    legal_representative: str | None = None


@dataclass(frozen=True)
class PlantSpec:
    """A production plant behind one member's connection point.

    Powers in [kW] / [kWp], storage in [kW] and [kWh], ``capital_grant_pct``
    in [%] of eligible cost. ``superbonus_kw`` and ``obligation_kw`` are the
    shares of power built with the Superbonus or to meet the renewable
    obligation for new buildings. Orientation in degrees, azimuth 180 = south.
    """

    key: str
    name: str
    owner_key: str
    pod: str
    source: str
    power_kw: Decimal
    entry_into_service_date: date
    storage_power_kw: Decimal
    storage_capacity_kwh: Decimal
    cadastral_sheet: str
    cadastral_parcel: str
    cadastral_subordinate: str
    censimp_code: str
    superbonus_kw: Decimal
    obligation_kw: Decimal
    capital_grant_pct: Decimal
    tilt_deg: int
    azimuth_deg: int


@dataclass(frozen=True)
class DemoRoster:
    """The whole demo community: entity, configuration, members and plants."""

    year: int
    community: CommunitySpec
    configuration: ConfigurationSpec
    members: tuple[MemberSpec, ...]
    plants: tuple[PlantSpec, ...]

    @property
    def connection_points(self) -> tuple[ConnectionPointSpec, ...]:
        """Return every member's connection point, in member order."""
        return tuple(member.connection_point for member in self.members)

    def member(self, key: str) -> MemberSpec:
        """Return the member with ``key``; raise KeyError when there is none."""
        for member in self.members:
            if member.key == key:
                return member
        raise KeyError(key)


# --------------------------------------------------------------------------- identifiers

_MONTH_LETTERS = "ABCDEHLMPRST"


def _letters(text: str) -> str:
    """Return the upper-case A–Z letters of ``text``, accents stripped."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.upper() if "A" <= ch <= "Z")


def _split_letters(text: str) -> tuple[str, str]:
    """Return the consonants and the vowels of ``text`` in order."""
    letters = _letters(text)
    consonants = "".join(ch for ch in letters if ch not in "AEIOU")
    vowels = "".join(ch for ch in letters if ch in "AEIOU")
    return consonants, vowels


def codice_fiscale(
    *, last_name: str, first_name: str, birth_date: date, sex: str, birth_place_code: str
) -> str:
    """Return the 16-character codice fiscale of a person (D.M. 23/12/1976).

    Surname: first three consonants, then vowels, then X. Name: the 1st, 3rd
    and 4th consonant when there are four or more, otherwise as the surname.
    Then the year's last two digits, the month letter, the day (plus 40 for
    women), the cadastral code of the birthplace and the check character.
    Omocodia (the rare case of two people with the same code) is not handled.
    """
    consonants, vowels = _split_letters(last_name)
    surname_part = (consonants + vowels + "XXX")[:3]
    consonants, vowels = _split_letters(first_name)
    if len(consonants) >= 4:
        name_part = consonants[0] + consonants[2] + consonants[3]
    else:
        name_part = (consonants + vowels + "XXX")[:3]
    day = birth_date.day + (40 if sex == "F" else 0)
    body = (
        f"{surname_part}{name_part}{birth_date.year % 100:02d}"
        f"{_MONTH_LETTERS[birth_date.month - 1]}{day:02d}{birth_place_code}"
    )
    return body + codicefiscale.calc_check_digit(body)


def numeric_fiscal_code(serial: int, office_code: str = _VENEZIA_OFFICE_CODE) -> str:
    """Return an 11-digit fiscal code or partita IVA: 7-digit serial, office, Luhn digit."""
    body = f"{serial:07d}{office_code}"
    return body + luhn.calc_check_digit(body)


def _iban(bank_code: str, branch_code: str, account_code: str) -> str:
    """Return an Italian IBAN; schwifty computes the CIN and the check digits."""
    return str(
        IBAN.generate("IT", bank_code=bank_code, branch_code=branch_code, account_code=account_code)
    )


# ABI codes of banks with branches around Venice.
_BANK_CODES = ("03069", "02008", "05034", "03032", "07601", "01030")


class _Draws:
    """Seeded draws for identifiers, keeping PODs and codes unique."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng([seed, 101])
        self.used: set[str] = set()

    def digits(self, count: int) -> str:
        return "".join(str(d) for d in self.rng.integers(0, 10, count))

    def unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def pod(self) -> str:
        return self.unique(lambda: f"IT{E_DISTRIBUZIONE}E{self.digits(8)}")

    def iban(self) -> str:
        bank = _BANK_CODES[int(self.rng.integers(0, len(_BANK_CODES)))]
        branch = f"{int(self.rng.integers(2000, 62000)):05d}"
        return self.unique(lambda: _iban(bank, branch, self.digits(12)))

    def phone(self) -> str:
        prefix = int(self.rng.choice([320, 328, 333, 338, 340, 347, 349, 366, 380, 392]))
        return f"+39 {prefix} {self.digits(3)} {self.digits(4)}"

    def choice(self, options: Sequence[str]) -> str:
        return str(options[int(self.rng.integers(0, len(options)))])


# --------------------------------------------------------------------------- people

_FEMALE_NAMES = (
    "Giulia", "Francesca", "Chiara", "Elena", "Sara", "Martina", "Anna", "Laura",
    "Paola", "Silvia", "Federica", "Valentina", "Roberta", "Elisa", "Monica",
    "Giovanna", "Lucia", "Marta", "Alessandra", "Cristina", "Ilaria", "Nicoletta",
)  # fmt: skip
_MALE_NAMES = (
    "Marco", "Luca", "Andrea", "Giovanni", "Matteo", "Alessandro", "Stefano",
    "Davide", "Paolo", "Francesco", "Massimo", "Roberto", "Nicola", "Simone",
    "Michele", "Riccardo", "Fabio", "Giorgio", "Enrico", "Niccolò", "Filippo",
    "Daniele",
)  # fmt: skip
# Surnames common in the Venetian mainland, including two with a particle
# and an apostrophe that the codice fiscale must skip.
_SURNAMES = (
    "Bortolato", "Scantamburlo", "Zanon", "Pavan", "Tonolo", "Marcato", "Vianello",
    "Bottacin", "Carraro", "Niero", "Favaro", "Bertoldo", "Trevisan", "Baldan",
    "Michieletto", "Zorzi", "Semenzato", "Busato", "Pizzato", "Righetto", "Masiero",
    "Toffolo", "Cazzaro", "Tessari", "Salvalaggio", "Furlan", "Barbiero", "Vecchiato",
    "Dal Corso", "D'Este", "Boscolo", "Zamengo", "Chinellato", "Gallo", "Rossi",
)  # fmt: skip

_STREETS = {
    SPINEA.istat_code: (
        "Via Roma", "Via Rossignago", "Via Luneo", "Via Fornase", "Via Matteotti",
        "Via della Costituzione", "Via Mantegna", "Via Don Milani", "Via Carducci",
        "Via Villafranca", "Via Bennati", "Via XXV Aprile",
    ),
    MIRANO.istat_code: ("Via Cavin di Sala", "Via Gramsci", "Via Scaltenigo"),
    MARTELLAGO.istat_code: ("Via Castellana", "Via Olmo", "Via Trento"),
    VENEZIA.istat_code: ("Via Miranese", "Via Asseggiano", "Via Catene"),
}  # fmt: skip
_MUNICIPALITIES = {m.istat_code: m for m in (SPINEA, MIRANO, MARTELLAGO, VENEZIA)}


def _address(street: str, municipality: Municipality) -> Address:
    return Address(
        street=street,
        postal_code=municipality.postal_code,
        municipality=municipality.name,
        istat_code=municipality.istat_code,
        province_abbr=municipality.province_abbr,
    )


def _email_local_part(*names: str) -> str:
    return ".".join(_letters(name).lower() for name in names)


def _household_power_kw(annual_kwh: int, has_air_conditioning: bool) -> Decimal:
    """Pick the contracted power a household of this size would hold [kW]."""
    if annual_kwh >= 3800 or (has_air_conditioning and annual_kwh >= 3000):
        return Decimal("6")
    if annual_kwh >= 2500 or has_air_conditioning:
        return Decimal("4.5")
    return Decimal("3")


_HOUSEHOLD_COUNT = 35
# Household index → role; everyone else is a plain MEMBER.
_HOUSEHOLD_ROLES = {0: REFERENTE, 1: ADMINISTRATOR}
# The household that owns the pre-2021 farm plant on its own connection point.
_FARMER_INDEX = 7
# Households that joined after the founding assembly (index → date).
_LATE_JOINERS = {
    30: date(2025, 1, 20),
    31: date(2025, 3, 1),
    32: date(2025, 3, 1),
    33: date(2025, 6, 16),
    34: date(2025, 9, 1),
}
FOUNDED_DATE = date(2024, 9, 12)


def _build_households(draws: _Draws) -> list[MemberSpec]:
    rng = draws.rng
    places = [code for code, _ in _BIRTHPLACES]
    weights = np.array([weight for _, weight in _BIRTHPLACES])
    home_pool = (
        [SPINEA.istat_code] * 26
        + [MIRANO.istat_code] * 3
        + [MARTELLAGO.istat_code] * 3
        + [VENEZIA.istat_code] * 3
    )
    homes = [home_pool[i] for i in rng.permutation(len(home_pool))]
    members = []
    used_codes: set[str] = set()
    used_emails: set[str] = set()
    used_names: set[tuple[str, str]] = set()
    for index in range(_HOUSEHOLD_COUNT):
        while True:
            sex = "F" if rng.random() < 0.5 else "M"
            first_name = draws.choice(_FEMALE_NAMES if sex == "F" else _MALE_NAMES)
            last_name = draws.choice(_SURNAMES)
            birth_place = places[int(rng.choice(len(places), p=weights / weights.sum()))]
            if birth_place == "Z129":
                first_name = "Andreea" if sex == "F" else "Mihai"
                last_name = "Popescu"
            birth_date = date(1942, 1, 1) + timedelta(days=int(rng.integers(0, 60 * 365)))
            fiscal_code = codice_fiscale(
                last_name=last_name,
                first_name=first_name,
                birth_date=birth_date,
                sex=sex,
                birth_place_code=birth_place,
            )
            # Two members with the same full name would confuse the demo's users.
            if fiscal_code not in used_codes and (first_name, last_name) not in used_names:
                used_codes.add(fiscal_code)
                used_names.add((first_name, last_name))
                break

        municipality = _MUNICIPALITIES[homes[index]]
        street = f"{draws.choice(_STREETS[municipality.istat_code])} {int(rng.integers(1, 120))}"
        is_farmer = index == _FARMER_INDEX
        if is_farmer:
            municipality = SPINEA
            street = "Via Luneo 212"
        address = _address(street, municipality)

        annual_kwh = int(rng.integers(1800, 4501))
        has_air_conditioning = bool(rng.random() < 0.55)
        away_in_august = bool(rng.random() < 0.45)
        if is_farmer:
            load = LoadSpec(profile=LOAD_AUXILIARY, annual_kwh=650)
            power_kw = Decimal("6")
        else:
            load = LoadSpec(
                profile=LOAD_HOUSEHOLD,
                annual_kwh=annual_kwh,
                has_air_conditioning=has_air_conditioning,
                away_in_august=away_in_august,
            )
            power_kw = _household_power_kw(annual_kwh, has_air_conditioning)

        local = _email_local_part(first_name, last_name)
        email = f"{local}@example.org"
        suffix = 2
        while email in used_emails:
            email = f"{local}{suffix}@example.org"
            suffix += 1
        used_emails.add(email)

        members.append(
            MemberSpec(
                key=f"household-{index + 1:02d}",
                category=HOUSEHOLD,
                role=_HOUSEHOLD_ROLES.get(index, MEMBER),
                membership_kind=PRODUCER if is_farmer else CONSUMER,
                is_legal_person=False,
                display_name=f"{first_name} {last_name}",
                fiscal_code=fiscal_code,
                email=email,
                phone=draws.phone(),
                address=address,
                iban=draws.iban(),
                joined_date=_LATE_JOINERS.get(index, FOUNDED_DATE),
                connection_point=ConnectionPointSpec(
                    pod=draws.pod(),
                    distributor_code=E_DISTRIBUZIONE,
                    voltage=LOW_VOLTAGE,
                    contracted_power_kw=power_kw,
                    address=address,
                    load=load,
                ),
                first_name=first_name,
                last_name=last_name,
                birth_date=birth_date,
                sex=sex,
                birth_place_code=birth_place,
            )
        )
    return members


def _legal_person(
    draws: _Draws,
    *,
    key: str,
    category: str,
    role: str,
    membership_kind: str,
    legal_name: str,
    fiscal_code: str,
    vat_number: str | None,
    mailbox: str,
    legal_representative: str,
    address: Address,
    joined_date: date,
    voltage: str,
    contracted_power_kw: Decimal,
    load: LoadSpec,
) -> MemberSpec:
    return MemberSpec(
        key=key,
        category=category,
        role=role,
        membership_kind=membership_kind,
        is_legal_person=True,
        display_name=legal_name,
        fiscal_code=fiscal_code,
        email=f"{mailbox}@example.org",
        phone=f"+39 041 {draws.digits(3)} {draws.digits(4)}",
        address=address,
        iban=draws.iban(),
        joined_date=joined_date,
        connection_point=ConnectionPointSpec(
            pod=draws.pod(),
            distributor_code=E_DISTRIBUZIONE,
            voltage=voltage,
            contracted_power_kw=contracted_power_kw,
            address=address,
            load=load,
        ),
        legal_name=legal_name,
        vat_number=vat_number,
        pec=f"{mailbox}@pec.example.org",
        legal_representative=legal_representative,
    )


def _build_legal_persons(draws: _Draws) -> list[MemberSpec]:
    rng = draws.rng
    # Companies use the partita IVA as fiscal code; public and religious
    # bodies and associations have a fiscal code starting with 8 or 9.
    bakery_vat = numeric_fiscal_code(int(rng.integers(3_000_000, 4_500_000)))
    metalwork_vat = numeric_fiscal_code(int(rng.integers(2_000_000, 3_000_000)))
    return [
        _legal_person(
            draws,
            key="bakery",
            category=SME,
            role=MEMBER,
            membership_kind=CONSUMER,
            legal_name="Panificio Tonolo di Tonolo Sergio & C. s.n.c.",
            fiscal_code=bakery_vat,
            vat_number=bakery_vat,
            mailbox="panificio.tonolo",
            legal_representative="Sergio Tonolo",
            address=_address("Via Roma 88", SPINEA),
            joined_date=FOUNDED_DATE,
            voltage=LOW_VOLTAGE,
            contracted_power_kw=Decimal("45"),
            load=LoadSpec(profile=LOAD_BAKERY, annual_kwh=62_000),
        ),
        _legal_person(
            draws,
            key="metalwork",
            category=SME,
            role=MEMBER,
            membership_kind=PROSUMER,
            legal_name="Carpenteria Metallica Zamengo S.r.l.",
            fiscal_code=metalwork_vat,
            vat_number=metalwork_vat,
            mailbox="amministrazione.zamengo",
            legal_representative="Paolo Zamengo",
            address=_address("Via Fornase 41", SPINEA),
            joined_date=FOUNDED_DATE,
            voltage=MEDIUM_VOLTAGE,
            contracted_power_kw=Decimal("100"),
            load=LoadSpec(profile=LOAD_METALWORK, annual_kwh=150_000),
        ),
        _legal_person(
            draws,
            key="municipality",
            category=PUBLIC_BODY,
            role=MEMBER,
            membership_kind=PROSUMER,
            legal_name="Comune di Spinea",
            fiscal_code=numeric_fiscal_code(8_200_000 + int(rng.integers(1_000, 9_999))),
            vat_number=numeric_fiscal_code(int(rng.integers(1_000_000, 1_999_999))),
            mailbox="protocollo.comune.spinea",
            legal_representative="Il Sindaco pro tempore",
            address=_address("Piazza Municipio 1", SPINEA),
            joined_date=FOUNDED_DATE,
            voltage=LOW_VOLTAGE,
            contracted_power_kw=Decimal("50"),
            load=LoadSpec(profile=LOAD_SCHOOL, annual_kwh=58_000),
        ),
        _legal_person(
            draws,
            key="parish",
            category=RELIGIOUS_BODY,
            role=MEMBER,
            membership_kind=PROSUMER,
            legal_name="Parrocchia di San Leonardo in Spinea",
            fiscal_code=numeric_fiscal_code(9_000_000 + int(rng.integers(1_000, 99_999))),
            vat_number=None,
            mailbox="parrocchia.sanleonardo",
            legal_representative="Don Giorgio Carraro",
            address=_address("Piazza San Leonardo 3", SPINEA),
            joined_date=FOUNDED_DATE,
            voltage=LOW_VOLTAGE,
            contracted_power_kw=Decimal("15"),
            load=LoadSpec(profile=LOAD_PARISH, annual_kwh=16_000),
        ),
        _legal_person(
            draws,
            key="association",
            category=THIRD_SECTOR,
            role=ADMINISTRATOR,
            membership_kind=CONSUMER,
            legal_name="Spinea in Transizione APS",
            fiscal_code=numeric_fiscal_code(9_000_000 + int(rng.integers(100_000, 999_999))),
            vat_number=None,
            mailbox="info.spineaintransizione",
            legal_representative="Elisa Righetto",
            address=_address("Via della Costituzione 15", SPINEA),
            joined_date=FOUNDED_DATE,
            voltage=LOW_VOLTAGE,
            contracted_power_kw=Decimal("10"),
            load=LoadSpec(profile=LOAD_ASSOCIATION, annual_kwh=5_500),
        ),
    ]


def _plants(members: Sequence[MemberSpec], draws: _Draws) -> tuple[PlantSpec, ...]:
    by_key = {member.key: member for member in members}
    farmer = members[_FARMER_INDEX]

    def censimp() -> str:
        return draws.unique(lambda: f"IM_{draws.digits(7)}")

    zero = Decimal("0")
    return (
        PlantSpec(
            key="pv-farm-barn",
            name=f"FV fienile {farmer.last_name}",
            owner_key=farmer.key,
            pod=farmer.connection_point.pod,
            source="PV",
            power_kw=Decimal("45.00"),
            entry_into_service_date=date(2019, 6, 15),
            storage_power_kw=zero,
            storage_capacity_kwh=zero,
            cadastral_sheet="7",
            cadastral_parcel="418",
            cadastral_subordinate="2",
            censimp_code=censimp(),
            superbonus_kw=zero,
            obligation_kw=zero,
            capital_grant_pct=zero,
            tilt_deg=30,
            azimuth_deg=180,
        ),
        PlantSpec(
            key="pv-school",
            name="FV scuola primaria G. Marconi",
            owner_key="municipality",
            pod=by_key["municipality"].connection_point.pod,
            source="PV",
            power_kw=Decimal("60.00"),
            entry_into_service_date=date(2024, 11, 5),
            storage_power_kw=zero,
            storage_capacity_kwh=zero,
            cadastral_sheet="12",
            cadastral_parcel="1045",
            cadastral_subordinate="1",
            censimp_code=censimp(),
            superbonus_kw=zero,
            obligation_kw=zero,
            # PNRR M2C2 investment 1.2: a capital grant of 40 % of eligible costs.
            capital_grant_pct=Decimal("40"),
            tilt_deg=15,
            azimuth_deg=180,
        ),
        PlantSpec(
            key="pv-metalwork",
            name="FV capannone Zamengo",
            owner_key="metalwork",
            pod=by_key["metalwork"].connection_point.pod,
            source="PV",
            power_kw=Decimal("150.00"),
            entry_into_service_date=date(2025, 2, 20),
            storage_power_kw=zero,
            storage_capacity_kwh=zero,
            cadastral_sheet="4",
            cadastral_parcel="233",
            cadastral_subordinate="5",
            censimp_code=censimp(),
            superbonus_kw=zero,
            # The new warehouse had to host some renewable power by law
            # (D.Lgs. 199/2021, Annex III): that share earns no tariff.
            obligation_kw=Decimal("22.50"),
            capital_grant_pct=zero,
            tilt_deg=10,
            azimuth_deg=170,
        ),
        PlantSpec(
            key="pv-parish",
            name="FV tetto oratorio San Leonardo",
            owner_key="parish",
            pod=by_key["parish"].connection_point.pod,
            source="PV",
            power_kw=Decimal("19.80"),
            entry_into_service_date=date(2025, 4, 3),
            storage_power_kw=Decimal("5.00"),
            storage_capacity_kwh=Decimal("10.00"),
            cadastral_sheet="9",
            cadastral_parcel="87",
            cadastral_subordinate="3",
            censimp_code=censimp(),
            superbonus_kw=zero,
            obligation_kw=zero,
            capital_grant_pct=zero,
            tilt_deg=25,
            azimuth_deg=200,
        ),
    )


def build_roster(seed: int = 2025) -> DemoRoster:
    """Return the demo community's roster for ``seed``; equal seeds give equal rosters.

    About 40 members (35 households, a bakery, a metalwork firm, the
    municipality, a parish and a third-sector association), one connection
    point each, and 4 PV plants, one of them in service since 2019.
    """
    draws = _Draws(seed)
    members = _build_households(draws) + _build_legal_persons(draws)
    community = CommunitySpec(
        name="CER Spinea Sole Comune",
        kind="CER",
        legal_form="ASSOCIATION",
        third_sector_entity=True,
        fiscal_code=numeric_fiscal_code(9_100_000 + int(draws.rng.integers(1_000, 99_999))),
        seat=_address("Piazza Municipio 1", SPINEA),
        email="info.cersolecomune@example.org",
        pec="cersolecomune@pec.example.org",
        founded_date=FOUNDED_DATE,
    )
    configuration = ConfigurationSpec(
        name="Configurazione CP Spinea",
        primary_substation_code=f"AC001E0{draws.digits(4)}",
        market_zone="NORD",
        region="Veneto",
        region_code="05",
        istat_codes=tuple(m.istat_code for m in (SPINEA, MIRANO, MARTELLAGO, VENEZIA)),
    )
    return DemoRoster(
        year=DEMO_YEAR,
        community=community,
        configuration=configuration,
        members=tuple(members),
        plants=_plants(members, draws),
    )
