"""The rules of the compliance files, each with its legal source and confidence tag.

Tags as in REGULATION.md §0: [V] read in an official text, [S] two or more secondary
sources agree, [U] unverified, to check against the primary text. docs/antimafia.md and
docs/compliance.md explain each figure; this module is the one place the code reads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cer.compliance.models import OfficeRole

# -- Anti-mafia (D.Lgs. 6 settembre 2011 n. 159, Libro II) ---------------------------------


@dataclass(frozen=True)
class DatedAmount:
    """An amount [EUR] in force from `valid_from` until `valid_to` (exclusive, None: open)."""

    amount_eur: Decimal
    valid_from: dt.date
    valid_to: dt.date | None
    source: str


# Art. 91 c. 1 lett. b [V] (GU text): the informazione antimafia is acquired before grants,
# funding or subsidised loans "superiore a 150.000 euro"; art. 83 c. 3 lett. e exempts acts
# whose total value does not exceed 150,000 EUR from any documentation [U]. In force with
# Libro II's documentation rules (art. 119: 13 Feb 2013) [S].
ANTIMAFIA_THRESHOLDS: tuple[DatedAmount, ...] = (
    DatedAmount(
        amount_eur=Decimal("150000.00"),
        valid_from=dt.date(2013, 2, 13),
        valid_to=None,
        source="D.Lgs. 159/2011 art. 91 c. 1 lett. b [V]; art. 83 c. 3 lett. e [U]",
    ),
)

# Art. 85 c. 2 lett. a (associations: who holds legal representation) and lett. b (companies
# and cooperatives: the legal representative and the other board members) [V]; the technical
# director, where there is one, c. 1-2 [V]; the statutory auditors and the supervisory body
# of D.Lgs. 231/2001 art. 6, c. 2-bis [S]; proxies with management powers: prefectures'
# practice [S]. Which letter fits a community depends on its legal form: checking every
# board member also for an association is the project's cautious reading [U].
SUBJECT_ROLES: dict[str, str] = {
    OfficeRole.LEGAL_REPRESENTATIVE: "D.Lgs. 159/2011 art. 85 c. 2 lett. a-b [V]",
    OfficeRole.BOARD_MEMBER: "D.Lgs. 159/2011 art. 85 c. 2 lett. b [V] (associations [U])",
    OfficeRole.AUDITOR: "D.Lgs. 159/2011 art. 85 c. 2-bis [S]",
    OfficeRole.SUPERVISORY_BODY: "D.Lgs. 159/2011 art. 85 c. 2-bis [S]",
    OfficeRole.TECHNICAL_DIRECTOR: "D.Lgs. 159/2011 art. 85 c. 1-2 [V]",
    OfficeRole.PROXY: "prefectures' practice on art. 85 [S]",
}

# Art. 85 c. 3: the checks extend to the adult family members living with each subject,
# who declares them [S] (prefectures' forms; the comma's text not read).
RELATIVES_SOURCE = "D.Lgs. 159/2011 art. 85 c. 3 [S]; DPR 445/2000 art. 46-47"

# Art. 86 c. 1: the comunicazione is valid six months from its acquisition; c. 2: the
# informazione twelve months, unless the company's ownership or management changes [V].
COMUNICAZIONE_VALID_MONTHS = 6
INFORMAZIONE_VALID_MONTHS = 12
# The law gives the self-declaration no validity of its own; the project renews it on the
# shorter cycle, so a fresh one is ready whichever document the authority requests [U].
DECLARATION_VALID_MONTHS = COMUNICAZIONE_VALID_MONTHS
# Reminders: this many days before a declaration lapses, and again when it has lapsed.
REMINDER_DAYS_BEFORE = 30
# Art. 86 c. 3 [V]: within 30 days of a change in the bodies, the legal representative sends
# the prefect the acts that record it.
CHANGE_NOTICE_DAYS = 30
CHANGE_NOTICE_SOURCE = "D.Lgs. 159/2011 art. 86 c. 3 [V]"


def threshold_on(day: dt.date) -> DatedAmount | None:
    """Return the anti-mafia threshold in force on `day`, None before the first one."""
    for row in ANTIMAFIA_THRESHOLDS:
        if row.valid_from <= day and (row.valid_to is None or day < row.valid_to):
            return row
    return None


# -- Plant compliance for PNRR-funded plants --------------------------------------------------


@dataclass(frozen=True)
class PlantItem:
    """One item of a plant's checklist: what it asks, the evidence it needs, its source.

    `sources` limits a question to plants of those energy sources (empty: every plant);
    `question` items are answered yes or no, the others are documents.
    """

    code: str
    group: str
    title: str | Promise
    evidence: str | Promise
    source: str
    sources: frozenset[str] = frozenset()
    question: bool = False


DNSH = "DNSH"
COMPONENTS = "COMPONENTS"
BIO = "BIO"

# Reg. (EU) 2020/852 art. 9 lists the six environmental objectives [S] (several Italian
# sources quote the article alike); art. 17 defines significant harm to each [S]. The
# evidence per objective follows the MEF-RGS "Guida operativa DNSH" (circ. 32/2021, updated
# by circ. 33/2022), sheet on solar PV electricity, and Reg. del. (EU) 2021/2139 annex I
# §4.1 and appendices A-D: as recalled, not read here [U].
_DNSH_GUIDE = "Reg. (UE) 2020/852 art. 9, 17 [S]; Guida operativa DNSH MEF-RGS [U]"

PLANT_ITEMS: tuple[PlantItem, ...] = (
    PlantItem(
        code="DNSH_CLIMATE_MITIGATION",
        group=DNSH,
        title=_("Climate change mitigation"),
        evidence=_(
            "Technical report stating the generation technology and its life-cycle emissions "
            "(renewable generation contributes substantially)."
        ),
        source=f"art. 9 lett. a; {_DNSH_GUIDE}",
    ),
    PlantItem(
        code="DNSH_CLIMATE_ADAPTATION",
        group=DNSH,
        title=_("Climate change adaptation"),
        evidence=_(
            "Climate risk and vulnerability assessment of the site, with the adaptation "
            "measures taken."
        ),
        source=f"art. 9 lett. b; Reg. del. (UE) 2021/2139 app. A [U]; {_DNSH_GUIDE}",
    ),
    PlantItem(
        code="DNSH_WATER",
        group=DNSH,
        title=_("Sustainable use and protection of water and marine resources"),
        evidence=_(
            "Declaration on the water used (panel cleaning) and, for hydro, the concession "
            "and the water authority's opinion."
        ),
        source=f"art. 9 lett. c; {_DNSH_GUIDE}",
    ),
    PlantItem(
        code="DNSH_CIRCULAR",
        group=DNSH,
        title=_("Transition to a circular economy"),
        evidence=_(
            "Waste management plan of the works (at least 70 % of non-hazardous construction "
            "waste prepared for reuse or recycling) and the components' durability and "
            "recyclability sheets."
        ),
        source=f"art. 9 lett. d; Reg. del. (UE) 2021/2139 annex I §4.1 [U]; {_DNSH_GUIDE}",
    ),
    PlantItem(
        code="DNSH_POLLUTION",
        group=DNSH,
        title=_("Pollution prevention and control"),
        evidence=_(
            "Declarations of conformity of the components with RoHS (dir. 2011/65/UE) and "
            "REACH (reg. 1907/2006)."
        ),
        source=f"art. 9 lett. e; Reg. del. (UE) 2021/2139 app. C [U]; {_DNSH_GUIDE}",
    ),
    PlantItem(
        code="DNSH_BIODIVERSITY",
        group=DNSH,
        title=_("Protection and restoration of biodiversity and ecosystems"),
        evidence=_(
            "Environmental impact assessment or screening, or a declaration that the site is "
            "on a building or outside protected and Natura 2000 areas."
        ),
        source=f"art. 9 lett. f; Reg. del. (UE) 2021/2139 app. D [U]; {_DNSH_GUIDE}",
    ),
    PlantItem(
        code="NEW_COMPONENTS",
        group=COMPONENTS,
        title=_("New or regenerated components"),
        evidence=_(
            "Declaration of the owner and the installer that the plant is built with new or "
            "regenerated components, with the list of components and serial numbers."
        ),
        source="DM MASE 414/2023 (PNRR, Part III) and GSE Regole Operative §1.2 [U] "
        "(REGULATION.md §9: not verified)",
    ),
    PlantItem(
        code="BIO_SUSTAINABLE_FEEDSTOCK",
        group=BIO,
        title=_(
            "Is the plant fed with biomass meeting the sustainability criteria (no land with "
            "high biodiversity or carbon stock)?"
        ),
        evidence=_("Feedstock supply contracts and sustainability certificates."),
        source="D.Lgs. 199/2021 art. 42; dir. (UE) 2018/2001 art. 29 c. 2-7 [U]",
        sources=frozenset({"BIOGAS", "BIOMASS"}),
        question=True,
    ),
    PlantItem(
        code="BIO_GHG_SAVINGS",
        group=BIO,
        title=_(
            "Does the electricity achieve the greenhouse-gas savings required for plants "
            "entering service from 2021 (at least 70 %, 80 % from 2026)?"
        ),
        evidence=_("Greenhouse-gas savings calculation signed by a technician."),
        source="dir. (UE) 2018/2001 art. 29 c. 10 lett. d; D.Lgs. 199/2021 art. 42 [U]",
        sources=frozenset({"BIOGAS", "BIOMASS"}),
        question=True,
    ),
    PlantItem(
        code="BIO_EMISSIONS",
        group=BIO,
        title=_(
            "Does the plant meet the emission limits (D.Lgs. 152/2006 Part V; for biomass "
            "up to 2 MW thermal, DM 16 Feb 2016 annex II tables 15-16)?"
        ),
        evidence=_("Emission authorisation and the latest emission measurements."),
        source="DL 34/2019 art. 48 c. 1-ter (quoted by a GSE FAQ) [S]; applicability to "
        "CER plants [U]",
        sources=frozenset({"BIOGAS", "BIOMASS"}),
        question=True,
    ),
    PlantItem(
        code="BIO_HIGH_EFFICIENCY_CHP",
        group=BIO,
        title=_("Does the plant run in high-efficiency cogeneration?"),
        evidence=_("GSE recognition of high-efficiency cogeneration (CAR)."),
        source="DM 414/2023 requirements for biomass and biogas plants, GSE Regole "
        "Operative §1.2 [U]",
        sources=frozenset({"BIOGAS", "BIOMASS"}),
        question=True,
    ),
)

ITEMS_BY_CODE: dict[str, PlantItem] = {item.code: item for item in PLANT_ITEMS}


def items_for(source: str) -> list[PlantItem]:
    """Return the checklist items that apply to a plant of energy source `source`."""
    return [item for item in PLANT_ITEMS if not item.sources or source in item.sources]
