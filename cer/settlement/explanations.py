"""The engine's notes on a settlement, explained to a referente who is not an engineer.

cercalc writes its warnings as English sentences for the record (they are stored with the
run, in `SettlementRun.warnings`, and cite the project's specification); the platform adds
a few of its own (cer/settlement/inputs.py, services.py). This module matches each one, by
pattern, to a stable code and turns it into three sentences in the reader's language: what
it means for the money, what to do, and the act that sets the rule. Figures and dates in
the note are re-read and formatted through cer/core/formatting.py; plants are named by the
name the community gave them, not by their database id.

A note no pattern knows is shown as it is, under a "technical note" disclosure, so a new
engine warning is never hidden: tests/settlement/test_plain_language.py reads every
`warnings.append` in cercalc and the settlement app and fails when one has no pattern here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from cer.core import formatting

ROME = ZoneInfo("Europe/Rome")


@dataclass(frozen=True)
class Explanation:
    """One note in plain words; `known` is False for a note shown as raw text."""

    code: str
    meaning: str
    action: str
    act: str
    raw: str
    known: bool = True


@dataclass(frozen=True)
class _Context:
    """What a builder needs besides the match: the plants' names by engine id."""

    plant_names: Mapping[str, str]

    def plant(self, plant_id: str) -> str:
        name = self.plant_names.get(plant_id)
        return f"«{name}»" if name else _("plant no. %(id)s") % {"id": plant_id}

    def plants(self, ids: str) -> str:
        return ", ".join(self.plant(item.strip()) for item in ids.split(",") if item.strip())


_Texts = tuple[str, str, str]  # meaning, action, act
_Builder = Callable[[dict[str, str], _Context], _Texts]


def _day(text: str) -> str:
    """Re-read an ISO date, or a UTC instant ("…T22:00:00Z"), as a Europe/Rome day in words."""
    try:
        if "T" in text:
            instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return formatting.day(instant.astimezone(ROME).date())
        return formatting.day(dt.date.fromisoformat(text[:10]))
    except ValueError:
        return text


def _dec(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def _kw(text: str) -> str:
    value = _dec(text)
    return text if value is None else formatting.kw(value)


def _kwh(text: str) -> str:
    value = _dec(text)
    return text if value is None else formatting.kwh(int(value * 1000))


def _eur(text: str) -> str:
    value = _dec(text)
    return text if value is None else formatting.eur(value)


def _pct(text: str) -> str:
    value = _dec(text)
    if value is None:
        return text
    return formatting.percent(value, 0 if value == value.to_integral_value() else 2)


# --- the acts cited -------------------------------------------------------------------------


def _dm414() -> str:
    return _("DM MASE 7 December 2023 no. 414 (CACER decree) and its Operating Rules")


def _tiad() -> str:
    return _("ARERA resolution 727/2022 (TIAD), on the valorisation of shared energy")


def _fees_act() -> str:
    return _("DM MASE 15 March 2024 no. 106, on GSE fees")


def _dm2020() -> str:
    return _("DM MiSE 16 September 2020, the transitional regime")


def _dlgs199() -> str:
    return _("D.Lgs. 8 November 2021 no. 199, art. 31")


def _pnrr_act() -> str:
    return _("DM 414/2023 Part III and DM MASE 16 May 2025 no. 127 (PNRR grant)")


# --- one builder per note -------------------------------------------------------------------

# Parameters named by the gap note, grouped by their first word: the reader learns which
# kind of regulatory value is missing, never its machine name.
_PARAMETER_FAMILIES: tuple[tuple[str, Callable[[], str], Callable[[], str]], ...] = (
    ("tip_", lambda: _("a value of the incentive tariff"), _dm414),
    ("pv_regional", lambda: _("the regional correction of the tariff"), _dm414),
    ("grant_", lambda: _("a value of the capital-grant reduction"), _dm414),
    ("f_", lambda: _("a rule of the capital-grant reduction"), _dm414),
    ("excess_", lambda: _("a threshold of the 55 %/45 % rule"), _dm414),
    ("existing_", lambda: _("a limit on existing plants"), _dlgs199),
    ("superbonus", lambda: _("the Superbonus limit"), _dm414),
    ("valorisation", lambda: _("a value of the ARERA valorisation"), _tiad),
    ("btau", lambda: _("a grid tariff used by the ARERA valorisation"), _tiad),
    ("loss_factor", lambda: _("a grid-loss factor of the ARERA valorisation"), _tiad),
    ("gse_fee", lambda: _("a GSE fee"), _fees_act),
    ("pnrr_", lambda: _("a value of the PNRR grant"), _pnrr_act),
    ("dm2020_", lambda: _("a value of the 2020 transitional regime"), _dm2020),
    ("quarter_hour", lambda: _("the date prices became quarter-hourly"), _tiad),
)


def _parameter_gap(m: dict[str, str], c: _Context) -> _Texts:
    what, act = _("a regulatory value"), _dm414
    for prefix, label, family_act in _PARAMETER_FAMILIES:
        if m["name"].startswith(prefix):
            what, act = label(), family_act
            break
    return (
        _(
            "No official figure is published yet for %(what)s on %(day)s, so the most "
            "recent one was used. The amounts may change slightly when the new figure is "
            "published."
        )
        % {"what": what, "day": _day(m["day"])},
        _(
            "Nothing to do now. When the authority publishes the new figure and the platform "
            "is updated, settle the month again: a new version will show any difference."
        ),
        act(),
    )


def _fee_pro_rata(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s has a power with a fraction of a kW above %(limit)s: the GSE fee for "
            "that fraction is charged in proportion, a few cents a year."
        )
        % {"plant": c.plant(m["plant"]), "limit": _kw(m["kw"])},
        _("Nothing to do; check the fee against GSE's yearly statement."),
        _fees_act(),
    )


def _unpriced_no_shared(m: dict[str, str], c: _Context) -> _Texts:
    count = int(m["count"])
    return (
        _(
            "%(count)s hour(s) had no market price, but no energy was shared in them: no "
            "amount depends on them."
        )
        % {"count": count},
        _("Nothing to do."),
        _tiad(),
    )


def _quarter_hours(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "From %(day)s the electricity market sets a price every quarter of an hour; the "
            "tariff uses an hourly price, taken as the average of the four quarters. GSE has "
            "not yet said how it does it, so the amounts may differ slightly from GSE's."
        )
        % {"day": _day(m["day"])},
        _("Compare the amounts with what GSE pays and import GSE's figures when they arrive."),
        _dm414(),
    )


def _same_day(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plants)s entered service on the same day (%(day)s). Shared energy goes first "
            "to the plant that entered service first; for plants of the same day the rules "
            "say nothing, so the platform uses a fixed order. Only the split between those "
            "plants depends on it, not the community's total."
        )
        % {"plants": c.plants(m["plants"]), "day": _day(m["day"])},
        _("Nothing to do, unless the plants' dates of entry into service are wrong."),
        _dm414(),
    )


def _no_tariff_no_fee(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plants)s receive no incentive tariff, so no GSE fee is charged for them: the "
            "fees apply to plants with a tariff."
        )
        % {"plants": c.plants(m["plants"])},
        _("Nothing to do."),
        _fees_act(),
    )


def _existing_by_date(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s entered service on %(day)s, before %(cutoff)s: the law treats it as an "
            "existing plant. Its shared energy earns the ARERA valorisation but no incentive "
            "tariff."
        )
        % {"plant": c.plant(m["plant"]), "day": _day(m["day"]), "cutoff": _day(m["cutoff"])},
        _("Check the plant's date of entry into service on its page; correct it if it is wrong."),
        _dlgs199(),
    )


def _above_max_power(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s has %(power)s, above the %(limit)s limit: its shared energy earns the "
            "ARERA valorisation but no incentive tariff."
        )
        % {"plant": c.plant(m["plant"]), "power": _kw(m["kw"]), "limit": _kw(m["max"])},
        _("Check the plant's power on its page; correct it if it is wrong."),
        _dm414(),
    )


def _grant_above(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s received a capital grant of %(share)s of its investment, above "
            "%(limit)s: with such a grant no incentive tariff is due, only the valorisation."
        )
        % {"plant": c.plant(m["plant"]), "share": _pct(m["share"]), "limit": _pct(m["max"])},
        _("Check the grant and the investment entered on the plant's page."),
        _dm414(),
    )


def _superbonus(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "Part of %(plant)s (%(power)s) was built with the Superbonus or to meet a building "
            "obligation: that part earns no incentive tariff, so the plant's tariff is reduced "
            "in proportion to its power. How GSE computes the reduction is not written down; "
            "the amounts may differ slightly."
        )
        % {"plant": c.plant(m["plant"]), "power": _kw(m["kw"])},
        _("Check the Superbonus and obligation power on the plant's page."),
        _dm414(),
    )


def _f_exempt(m: dict[str, str], c: _Context) -> _Texts:
    if m["reading"] == "up to":
        how = _("up to what they withdrew")
    else:
        how = _("in proportion to their share of each hour's withdrawals")
    return (
        _(
            "Some members (public bodies, religious or third-sector bodies, and from 2025 "
            "private persons) keep the full tariff even when a plant had a capital grant. The "
            "energy shared with them is counted %(how)s; GSE has not said which way it counts "
            "it, so the tariff may differ slightly from GSE's."
        )
        % {"how": how},
        _("Compare with what GSE pays and import GSE's figures when they arrive."),
        _("DM 414/2023, Operating Rules §2.2.2.1.2, and DM MASE 16 May 2025 no. 127"),
    )


def _dm2020_power(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s is recorded under the 2020 transitional regime with %(power)s, but that "
            "regime admits plants up to %(limit)s. Its flat tariff was applied as recorded."
        )
        % {"plant": c.plant(m["plant"]), "power": _kw(m["kw"]), "limit": _kw(m["max"])},
        _("Check the plant's regime and power: if either is wrong, correct it and settle again."),
        _dm2020(),
    )


def _dm2020_start(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s is recorded under the 2020 transitional regime, but entered service on "
            "%(day)s, before that regime began (%(start)s). Its flat tariff was applied as "
            "recorded."
        )
        % {"plant": c.plant(m["plant"]), "day": _day(m["day"]), "start": _day(m["start"])},
        _("Check the plant's regime and date: if either is wrong, correct it and settle again."),
        _dm2020(),
    )


def _before_dm414(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s shared energy in %(hours)s hour(s) before %(day)s, when the CACER decree "
            "came into force: those hours earn the valorisation but no incentive tariff."
        )
        % {"plant": c.plant(m["plant"]), "hours": m["hours"], "day": _day(m["day"])},
        _("Nothing to do."),
        _dm414(),
    )


def _tariff_ends(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "The incentive tariff of %(plant)s ends on %(day)s, twenty years after it entered "
            "service: from then on its shared energy earns only the valorisation."
        )
        % {"plant": c.plant(m["plant"]), "day": _day(m["when"])},
        _("Check the date with the plant's GSE contract."),
        _dm414(),
    )


def _multi_year(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "The period covers %(first)s to %(last)s: the 55 %%/45 %% rule was checked on the "
            "whole period as if it were one year, while GSE checks it year by year."
        )
        % {"first": m["first"], "last": m["last"]},
        _("Read the yearly figures on the year page."),
        _dm414(),
    )


def _pnrr_above_steps(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _("%(plant)s is above the largest power the PNRR grant allows: no grant is counted.")
        % {"plant": c.plant(m["plant"])},
        _("Check the plant's power and the grant entered on its page."),
        _pnrr_act(),
    )


def _f_whole_investment(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "For %(plant)s the tariff reduction for the capital grant is measured on the whole "
            "investment (%(investment)s) rather than on the eligible cost (%(eligible)s); the "
            "rules do not say which, so the tariff may differ slightly from GSE's."
        )
        % {
            "plant": c.plant(m["plant"]),
            "investment": _eur(m["investment"]),
            "eligible": _eur(m["eligible"]),
        },
        _("Compare with what GSE pays and import GSE's figures when they arrive."),
        _dm414(),
    )


def _loss_factors(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "The valorisation includes the grid losses the community avoids, valued with ARERA's "
            "loss factors for each point's voltage at the hour's market price. How the TIAD "
            "shares them among points is not spelled out, so this part may differ slightly "
            "from GSE's."
        ),
        _("Compare with what GSE pays and import GSE's figures when they arrive."),
        _tiad(),
    )


def _hv_losses(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "Some points are connected at high voltage; ARERA gives loss factors for low and "
            "medium voltage only, so the medium-voltage one was used."
        ),
        _("Check the points' voltage levels."),
        _tiad(),
    )


def _pnrr_configuration(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s has a PNRR grant, but the grant is for plants of energy communities and "
            "groups of self-consumers, not of this kind of configuration. The grant and its "
            "tariff reduction were applied as recorded."
        )
        % {"plant": c.plant(m["plant"])},
        _("Check the grant on the plant's page and the configuration's kind."),
        _pnrr_act(),
    )


def _pnrr_late(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s has a PNRR grant but enters service on %(day)s, after %(last)s, the last "
            "day the grant allows. The grant and its tariff reduction were applied as recorded."
        )
        % {"plant": c.plant(m["plant"]), "day": _day(m["day"]), "last": _day(m["last"])},
        _("Check the plant's date of entry into service and its grant."),
        _pnrr_act(),
    )


def _storage(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s has a storage battery (%(power)s, %(capacity)s). The battery counts only "
            "through what the meter at the point of connection records; the rules do not yet "
            "say more."
        )
        % {
            "plant": c.plant(m["plant"]),
            "power": _kw(m["kw"]),
            "capacity": _kwh(m["kwh"]),
        },
        _("Nothing to do."),
        _tiad(),
    )


def _injection_before(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(plant)s fed %(energy)s into the grid before its entry into service on %(day)s: "
            "that energy is not counted as shared and earns nothing."
        )
        % {"plant": c.plant(m["plant"]), "energy": _kwh(m["kwh"]), "day": _day(m["day"])},
        _(
            "If the date of entry into service is wrong, correct it on the plant's page and "
            "settle the month again."
        ),
        _dm414(),
    )


def _existing_share(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "Existing plants (%(plants)s) have %(power)s of the configuration's %(total)s, "
            "%(share)s, above the %(limit)s an energy community may have. GSE may refuse or "
            "reduce the incentives."
        )
        % {
            "plants": c.plants(m["plants"]),
            "power": _kw(m["kw"]),
            "total": _kw(m["total"]),
            "share": _pct(m["share"]),
            "limit": _pct(m["max"]),
        },
        _("Add new plants or check which plants are recorded as existing."),
        _dlgs199(),
    )


def _points_outside(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "%(count)s connection point(s) (%(pods)s) belong to people who were not members "
            "this month: their energy is not counted."
        )
        % {"count": m["count"], "pods": m["pods"]},
        _("If they should be members, record their membership from the right date."),
        _tiad(),
    )


def _several_plants(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "The point %(pod)s has more than one plant: everything it feeds in is counted for "
            "the oldest one."
        )
        % {"pod": m["pod"]},
        _("If the plants are sections of one plant, record them as one plant."),
        _dm414(),
    )


def _prices_rounded(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "Some market prices had more than four decimals and were rounded; the effect is "
            "below one cent."
        ),
        _("Nothing to do."),
        _tiad(),
    )


def _not_measured(m: dict[str, str], c: _Context) -> _Texts:
    return (
        _(
            "At %(count)s point(s) (%(points)s) some hours were estimated, not measured: the "
            "month is provisional and its amounts may change."
        )
        % {"count": m["count"], "points": m["points"]},
        _(
            "Import the grid operator's readings for those hours and settle again; or make the "
            "month final with a reason if the readings will not come."
        ),
        _tiad(),
    )


# --- the table ------------------------------------------------------------------------------

_RULES: tuple[tuple[str, str, _Builder], ...] = (
    ("PARAMETER_GAP", "No value of <word:name> is known for <date:day>", _parameter_gap),
    (
        "GSE_FEE_PRO_RATA",
        "Plant <plant>: the GSE fee charges the fraction of a kW above <num:kw> kW",
        _fee_pro_rata,
    ),
    (
        "UNPRICED_NO_SHARED",
        r"<int:count> hours? without a zonal price had no shared energy",
        _unpriced_no_shared,
    ),
    ("QUARTER_HOUR_PRICES", "From <date:day> the market prices quarter-hours", _quarter_hours),
    (
        "SAME_DAY_PLANTS",
        r"Plants <list:plants> entered service on the same day \(<date:day>\)",
        _same_day,
    ),
    (
        "NO_TARIFF_NO_FEE",
        r"Plants without a tariff \(<list:plants>\) show a GSE fee",
        _no_tariff_no_fee,
    ),
    (
        "EXISTING_BY_DATE",
        "Plant <plant> entered service on <date:day>, before <date:cutoff>: "
        "it is treated as an existing plant",
        _existing_by_date,
    ),
    ("ABOVE_MAX_POWER", "Plant <plant> has <num:kw> kW, above <num:max> kW", _above_max_power),
    (
        "GRANT_ABOVE_LIMIT",
        "Plant <plant> has a capital grant of <num:share> % of its investment, above <num:max> %",
        _grant_above,
    ),
    (
        "SUPERBONUS_SHARE",
        r"Plant <plant>: the Superbonus and obligation power \(<num:kw> kW\)",
        _superbonus,
    ),
    (
        "F_EXEMPT_ATTRIBUTION",
        "Shared energy is attributed to consumers exempt from the factor F "
        "(?P<reading>in proportion|up to)",
        _f_exempt,
    ),
    (
        "DM2020_ABOVE_POWER",
        "Plant <plant> is declared under DM 16/9/2020 with <num:kw> kW, "
        "but that regime admits plants up to <num:max> kW",
        _dm2020_power,
    ),
    (
        "DM2020_BEFORE_START",
        "Plant <plant> is declared under DM 16/9/2020 but entered service on <date:day>, "
        "before <date:start>",
        _dm2020_start,
    ),
    (
        "BEFORE_DM414",
        r"Plant <plant>: <int:hours> hour\(s\) with shared energy before <date:day>",
        _before_dm414,
    ),
    ("TARIFF_ENDS", "Plant <plant>'s tariff ends on <word:when>,", _tariff_ends),
    ("MULTI_YEAR_EXCESS", "The case spans the years <int:first>-<int:last>", _multi_year),
    (
        "PNRR_ABOVE_STEPS",
        "Plant <plant> is above the largest PNRR power step",
        _pnrr_above_steps,
    ),
    (
        "F_ON_WHOLE_INVESTMENT",
        r"Plant <plant>: the factor F measures the grant on the whole investment "
        r"\(<num:investment> EUR\), not on the eligible cost \(<num:eligible> EUR\)",
        _f_whole_investment,
    ),
    ("LOSS_FACTORS", "The avoided-losses term of the valorisation", _loss_factors),
    (
        "HV_LOSS_FACTOR",
        "High-voltage withdrawal points take the medium-voltage loss factor",
        _hv_losses,
    ),
    (
        "PNRR_CONFIGURATION",
        "Plant <plant> declares a PNRR grant, but the grant is for plants in a",
        _pnrr_configuration,
    ),
    (
        "PNRR_LATE",
        "Plant <plant> declares a PNRR grant but enters service on <date:day>, after <date:last>",
        _pnrr_late,
    ),
    (
        "STORAGE",
        r"Plant <plant> declares storage \(<num:kw> kW, <num:kwh> kWh\)",
        _storage,
    ),
    (
        "INJECTION_BEFORE_SERVICE",
        "Plant <plant> injected <num:kwh> kWh before its entry into service on <date:day>",
        _injection_before,
    ),
    (
        "EXISTING_SHARE_ABOVE",
        r"Existing plants \(<list:plants>\) have <num:kw> kW of the configuration's "
        "<num:total> kW, <num:share> %, above the <num:max> %",
        _existing_share,
    ),
    (
        "POINTS_OUTSIDE_MEMBERSHIP",
        r"<int:count> connection point\(s\) whose holder was not a member in the period "
        "were left out: <rest:pods>",
        _points_outside,
    ),
    ("SEVERAL_PLANTS_ON_POINT", "Point <word:pod> has several plants", _several_plants),
    ("PRICES_ROUNDED", "Some zonal prices had more than four decimals", _prices_rounded),
    (
        "NOT_MEASURED",
        r"provisional: estimated or interpolated readings \(not measured hour by hour\) "
        r"at <int:count> point\(s\): <rest:points>",
        _not_measured,
    ),
)

# Placeholders of the patterns above: <kind:name> becomes a named group.
_PIECES = {
    "word": r"\S+",
    "int": r"\d+",
    "num": r"-?[\d.]+",
    "date": r"\d{4}-\d{2}-\d{2}",
    "list": r".+?",
    "rest": r".+",
}


def _compile(pattern: str) -> re.Pattern[str]:
    pattern = pattern.replace("<plant>", r"(?P<plant>[^\s:',()]+)")
    pattern = re.sub(r"<(\w+):(\w+)>", lambda m: f"(?P<{m[2]}>{_PIECES[m[1]]})", pattern)
    return re.compile(pattern, re.DOTALL)


_COMPILED = tuple((code, _compile(pattern), build) for code, pattern, build in _RULES)

CODES = tuple(code for code, _pattern, _build in _RULES)


def code_of(note: str) -> str | None:
    """Return the stable code of an engine note, or None when no pattern knows it."""
    for code, pattern, _build in _COMPILED:
        if pattern.match(note):
            return code
    return None


def explain(note: str, *, plant_names: Mapping[str, str] | None = None) -> Explanation:
    """Explain one stored engine note in the active language.

    `plant_names` maps the engine's plant ids (the plants' primary keys, as text) to the
    names shown to the reader. A note no pattern knows comes back with `known` False and
    its raw text, for the page's "technical note" disclosure.
    """
    context = _Context(plant_names or {})
    for code, pattern, build in _COMPILED:
        found = pattern.match(note)
        if found:
            meaning, action, act = build(found.groupdict(), context)
            return Explanation(code=code, meaning=meaning, action=action, act=act, raw=note)
    return Explanation(code="", meaning="", action="", act="", raw=note, known=False)


def explain_all(
    notes: list[str], *, plant_names: Mapping[str, str] | None = None
) -> list[Explanation]:
    """Explain each note of a run, in order."""
    return [explain(note, plant_names=plant_names) for note in notes]
