"""The checks a PNRR application passes before it is ready to submit, and its deadlines.

Each check names the field it looks at and the rule it applies (REGULATION.md §8, with the
confidence tag of the source); a blocking failure keeps the file in DRAFT, a warning is shown
and does not. Figures come from the dated parameters of cercalc.params (with the
administrators' overrides) and the grant's arithmetic from cercalc.pnrr, never restated here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from cer.compliance.plant_checks import dnsh_complete
from cer.core import formatting
from cer.grants.models import GrantApplication, OtherGrant
from cer.incentives.parameters import parameters_with_overrides
from cercalc import pnrr
from cercalc.params import Parameters


@dataclass(frozen=True)
class Check:
    """One rule applied to one field: passed or not, and what the person reads."""

    field: str
    rule: str
    passed: bool
    message: str
    blocking: bool = True


@dataclass(frozen=True)
class Deadline:
    """A date the file must meet, with its source and the days left on `today`."""

    label: str
    date: dt.date
    days_left: int
    source: str

    @property
    def days_passed(self) -> int:
        return -self.days_left


def parameters() -> Parameters:
    """Return the engine's parameters with every administrator override."""
    table, _versions = parameters_with_overrides(dt.date.min, dt.date.max)
    return table


def _value(params: Parameters, name: str, day: dt.date) -> Any:
    return params.value_on(name, day, [])


def maximum_grant(
    application: GrantApplication, *, today: dt.date, params: Parameters | None = None
) -> pnrr.CapitalGrant | None:
    """Return cercalc's grant on the claimed cost items, None above the last power step."""
    params = params or parameters()
    try:
        return pnrr.capital_grant(
            power_kw=application.plant.power_kw,
            investment_eur=application.claimed_eur,
            cost_caps_eur_per_kw=_value(params, "pnrr_cost_cap_eur_per_kw_steps", today),
            grant_share=_value(params, "pnrr_grant_share", today),
            advance_share=_value(params, "pnrr_advance_share", today),
        )
    except ValueError:
        return None


def cost_cap_eur(
    application: GrantApplication, *, today: dt.date, params: Parameters | None = None
) -> tuple[Decimal, Decimal] | None:
    """Return (cap [EUR/kW] of the plant's band, cap [EUR] of the whole plant), or None."""
    params = params or parameters()
    steps = _value(params, "pnrr_cost_cap_eur_per_kw_steps", today)
    power = application.plant.power_kw
    for limit_kw, cap in steps:
        if power <= limit_kw:
            return cap, cap * power
    return None


def check_application(application: GrantApplication, *, today: dt.date) -> list[Check]:
    """Apply every rule of the application file on `today` (Europe/Rome date)."""
    params = parameters()
    checks: list[Check] = []
    checks += _subject_checks(application, today, params)
    checks += _timing_checks(application, today, params)
    checks += _cost_checks(application, today, params)
    # The plant's DNSH and components checklist (cer.compliance): a warning, not a block,
    # since part of its evidence (waste recycled, components installed) exists only once
    # the works are done (REGULATION.md §8 [S], §9 [U]; docs/compliance.md).
    checks.append(
        Check(
            "dnsh",
            _("DNSH principle and new or regenerated components: every item accepted"),
            dnsh_complete(application.plant),
            _("See the plant's compliance checklist."),
            blocking=False,
        )
    )
    return checks


def blocking_failures(checks: list[Check]) -> list[Check]:
    return [check for check in checks if check.blocking and not check.passed]


def _subject_checks(app: GrantApplication, today: dt.date, params: Parameters) -> list[Check]:
    checks: list[Check] = []
    limit = _value(params, "pnrr_max_population", today)
    rule_population = _("DM 127/2025: municipalities below %(limit)s inhabitants") % {
        "limit": formatting.number(limit)
    }
    population = app.checked_population
    if population is None:
        checks.append(
            Check("municipality", rule_population, False, _("The municipality is missing."))
        )
    else:
        which = (
            _("the official figure recorded (%(source)s)") % {"source": app.population_source}
            if app.current_population is not None
            else _("the ISTAT 2011 census figure")
        )
        passed = population < limit
        message = _("%(population)s inhabitants, %(which)s: %(verdict)s.") % {
            "population": formatting.number(population),
            "which": which,
            "verdict": _("below the limit") if passed else _("not below the limit"),
        }
        checks.append(Check("municipality", rule_population, passed, message))
    if app.current_population is not None and not (app.population_source and app.population_date):
        checks.append(
            Check(
                "population_source",
                _("An official population figure is given with its source and date"),
                False,
                _("Give the source and the date of the current population figure."),
            )
        )
    kinds = _value(params, "pnrr_configuration_types", today)
    kind = app.community.kind
    checks.append(
        Check(
            "plant",
            _("DM 414/2023 Part III: a plant in a %(kinds)s configuration (REGULATION.md §8 [S])")
            % {"kinds": " / ".join(kinds)},
            kind in kinds,
            _("The community is of type %(kind)s.") % {"kind": kind},
        )
    )
    cap = cost_cap_eur(app, today=today, params=params)
    power = app.plant.power_kw
    checks.append(
        Check(
            "plant",
            _("DM 414/2023 Part III: plants of at most 1 MW (REGULATION.md §8 [S])"),
            cap is not None and power > 0,
            _("The plant's power is %(power)s.") % {"power": formatting.kw(power)},
        )
    )
    return checks


def _date_check(field: str, rule: str, value: dt.date | None, passed: bool, missing: str) -> Check:
    if value is None:
        return Check(field, rule, False, missing)
    return Check(field, rule, passed, formatting.day(value))


def _timing_checks(app: GrantApplication, today: dt.date, params: Parameters) -> list[Check]:
    earliest = _value(params, "pnrr_works_start_from_date", today)
    works_until = _value(params, "pnrr_works_end_until_date", today)
    service_until = _value(params, "pnrr_entry_into_service_until_date", today)
    months = _value(params, "pnrr_service_months_after_works", today)
    start, end, service = app.works_start_date, app.works_end_date, app.expected_service_date
    checks = [
        _date_check(
            "works_start_date",
            _(
                "Works start from %(earliest)s (DM 414/2023 in force, a working reading [U]) "
                "and before the end-of-works deadline %(until)s (DM 127/2025 [S])"
            )
            % {"earliest": formatting.day(earliest), "until": formatting.day(works_until)},
            start,
            start is not None and earliest <= start <= works_until,
            _("The start of works is missing."),
        ),
        _date_check(
            "works_end_date",
            _("DM 127/2025: works completed by %(until)s, and not before they start [S]")
            % {"until": formatting.day(works_until)},
            end,
            end is not None and end <= works_until and (start is None or start <= end),
            _("The end of works is missing."),
        ),
    ]
    if end is not None:
        deadline = pnrr.entry_into_service_deadline(
            works_end_date=end, months_after_works=months, until_date=service_until
        )
        rule = _(
            "DM 127/2025: entry into service within %(months)s months of the end of works and "
            "by %(until)s, here by %(deadline)s [S]"
        ) % {
            "months": months,
            "until": formatting.day(service_until),
            "deadline": formatting.day(deadline),
        }
        checks.append(
            _date_check(
                "expected_service_date",
                rule,
                service,
                service is not None and end <= service <= deadline,
                _("The expected entry into service is missing."),
            )
        )
    else:
        checks.append(
            Check(
                "expected_service_date",
                _("DM 127/2025: entry into service within 24 months of the end of works [S]"),
                False,
                _("Give the end of works first."),
            )
        )
    if start is not None and start < today:
        checks.append(
            Check(
                "works_start_date",
                _(
                    "The original DM 414/2023 wanted works to start after the application; "
                    "whether DM 127/2025 keeps it is to verify [U]"
                ),
                False,
                _("Works started before today."),
                blocking=False,
            )
        )
    return checks


def _cost_checks(app: GrantApplication, today: dt.date, params: Parameters) -> list[Check]:
    checks: list[Check] = []
    claimed = app.claimed_eur
    cap = cost_cap_eur(app, today=today, params=params)
    if not any(item.claimed for item in app.cost_items.all()):
        checks.append(
            Check("cost_items", _("At least one eligible cost item"), False, _("No cost item."))
        )
    elif cap is not None:
        per_kw, whole = cap
        checks.append(
            Check(
                "cost_items",
                _(
                    "DM 414/2023 Part III: eligible costs at most %(per_kw)s per kW for a plant "
                    "of this power band, %(whole)s in all (REGULATION.md §8 [S]; no cap per "
                    "category is known)"
                )
                % {"per_kw": formatting.eur(per_kw), "whole": formatting.eur(whole)},
                claimed <= whole,
                _("Claimed cost items: %(claimed)s.") % {"claimed": formatting.eur(claimed)},
            )
        )
    covered = [item for item in app.cost_items.all() if item.claimed and item.other_grants.exists()]
    for item in covered:
        checks.append(
            Check(
                "cost_items",
                _("No double funding: no other public grant on the same costs (REGULATION.md §8)"),
                False,
                _("“%(item)s” is covered by %(grants)s.")
                % {
                    "item": item.description,
                    "grants": ", ".join(str(grant) for grant in item.other_grants.all()),
                },
            )
        )
    maximum = maximum_grant(app, today=today, params=params)
    requested = app.requested_grant_eur
    if requested is None:
        checks.append(Check("requested_grant_eur", _("A requested grant"), False, _("Missing.")))
    elif maximum is not None:
        share = _value(params, "pnrr_grant_share", today)
        checks.append(
            Check(
                "requested_grant_eur",
                _("DM 414/2023 Part III: at most %(share)s of the eligible costs within the cap")
                % {"share": formatting.percent(share * 100, 0)},
                requested <= maximum.grant_eur,
                _("Requested %(requested)s, maximum %(maximum)s.")
                % {
                    "requested": formatting.eur(requested),
                    "maximum": formatting.eur(maximum.grant_eur),
                },
            )
        )
    investment = app.investment_eur
    others = sum(
        (grant.amount_eur for grant in OtherGrant.objects.filter(plant=app.plant)), Decimal(0)
    )
    if investment > 0 and (others or requested):
        share_at_f_max = _value(params, "grant_share_for_f_max", today)
        total = (requested or Decimal(0)) + others
        checks.append(
            Check(
                "other_grants",
                _(
                    "Capital grants and the TIP add up only to %(limit)s of the investment; "
                    "above it no TIP is due (REGULATION.md §4.3 [S])"
                )
                % {"limit": formatting.percent(share_at_f_max * 100, 0)},
                total <= investment * share_at_f_max,
                _("Grants %(total)s on an investment of %(investment)s.")
                % {"total": formatting.eur(total), "investment": formatting.eur(investment)},
                blocking=False,
            )
        )
    return checks


def deadlines(application: GrantApplication, *, today: dt.date) -> list[Deadline]:
    """Return the file's deadlines, with the days left on `today` (negative once passed)."""
    params = parameters()
    works_until = _value(params, "pnrr_works_end_until_date", today)
    service_until = _value(params, "pnrr_entry_into_service_until_date", today)
    window = _value(params, "pnrr_applications_until_date", today)
    rows = [
        (_("Applications close (18:00)"), window, "DM 59/2025, DD MASE 229/2025 [S]"),
        (_("Works completed"), works_until, "DM 127/2025 [S]"),
    ]
    if application.works_end_date is not None:
        months = _value(params, "pnrr_service_months_after_works", today)
        service = pnrr.entry_into_service_deadline(
            works_end_date=application.works_end_date,
            months_after_works=months,
            until_date=service_until,
        )
        rows.append((_("Entry into service"), service, "DM 127/2025 [S]"))
    else:
        rows.append((_("Entry into service"), service_until, "DM 127/2025 [S]"))
    return [Deadline(label, day, (day - today).days, source) for label, day, source in rows]
