"""The settlement year: the latest run of each month rolled up, and the 55 %/45 % rule.

The year's true-up (cer.distribution.true_up) reads this summary: it needs every month
settled and its latest version distributed.

GSE checks the rule over the calendar year (REGULATION.md §5), so the year's excess is the
engine's, settled over the whole Europe/Rome year; the enterprises' ceiling is the engine's
too (cercalc.distribution.enterprise_ceiling_cents), over the year's distributions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from cer.communities.models import Configuration
from cer.distribution.models import Distribution, YearTrueUp
from cer.distribution.services import enterprise_total
from cer.settlement.inputs import load_inputs
from cer.settlement.models import SettlementRun
from cer.settlement.services import SettlementError, settle_inputs
from cercalc import periods
from cercalc.distribution import enterprise_ceiling_cents


@dataclass(frozen=True)
class YearSummary:
    year: int
    runs: list[SettlementRun]
    missing_months: list[dt.date]
    injected_wh: int
    withdrawn_wh: int
    shared_wh: int
    incentive_eur: Decimal
    valorisation_eur: Decimal
    monthly_excess_eur: Decimal
    year_excess_eur: Decimal | None
    year_warnings: list[str]
    enterprise_eur: Decimal
    enterprise_ceiling_eur: Decimal | None
    undistributed_months: list[dt.date]
    inputs_hash: str | None
    true_ups: list[YearTrueUp]

    @property
    def ready_for_true_up(self) -> bool:
        """Every month settled, its latest version distributed, the year's excess known."""
        return (
            not self.missing_months
            and not self.undistributed_months
            and self.year_excess_eur is not None
        )

    @property
    def enterprises_above_ceiling(self) -> bool:
        return self.enterprise_ceiling_eur is not None and (
            self.enterprise_eur > self.enterprise_ceiling_eur
        )


def year_summary(*, configuration: Configuration, year: int) -> YearSummary:
    """Roll up the latest run of each month and apply the 55 %/45 % rule over the year.

    The year's excess is the engine's, settled over the whole Europe/Rome calendar year
    (REGULATION.md §5: GSE checks the rule yearly); the monthly figures only indicate it.
    Enterprises may receive at most amounts - excess - pots that are not social
    (docs/algorithms/distribution.md).
    """
    whole_year = periods.year(year)
    runs: list[SettlementRun] = []
    missing: list[dt.date] = []
    for month in whole_year.months():
        run = (
            SettlementRun.objects.filter(configuration=configuration, month=month.start)
            .order_by("-version")
            .first()
        )
        if run is None:
            missing.append(month.start)
        else:
            runs.append(run)
    excess: Decimal | None = None
    inputs_hash: str | None = None
    warnings: list[str] = []
    if runs:
        hours = whole_year.hour_starts_s()
        try:
            inputs = load_inputs(configuration=configuration, hours=hours)
            inputs_hash = inputs.inputs_hash()
            result = settle_inputs(inputs)
            excess = result.excess_eur
            warnings = list(result.warnings)
        except SettlementError as error:
            warnings = [str(error)]
    enterprise = Decimal(0)
    ceiling: Decimal | None = None
    distributions = [getattr(run, "distribution", None) for run in runs]
    distributed = [d for d in distributions if d is not None]
    if distributed and excess is not None:
        enterprise = sum((enterprise_total(d) for d in distributed), Decimal(0))
        ceiling = _enterprise_ceiling_eur(distributed, excess_eur=excess)
    return YearSummary(
        year=year,
        runs=runs,
        missing_months=missing,
        injected_wh=sum(r.injected_wh for r in runs),
        withdrawn_wh=sum(r.withdrawn_wh for r in runs),
        shared_wh=sum(r.shared_wh for r in runs),
        incentive_eur=sum((r.incentive_eur for r in runs), Decimal(0)),
        valorisation_eur=sum((r.valorisation_eur for r in runs), Decimal(0)),
        monthly_excess_eur=sum((r.excess_eur for r in runs), Decimal(0)),
        year_excess_eur=excess,
        year_warnings=warnings,
        enterprise_eur=enterprise,
        enterprise_ceiling_eur=ceiling,
        undistributed_months=[
            run.month for run, d in zip(runs, distributions, strict=True) if d is None
        ],
        inputs_hash=inputs_hash,
        true_ups=list(
            YearTrueUp.objects.filter(configuration=configuration, year=year).order_by("sequence")
        ),
    )


def _enterprise_ceiling_eur(distributions: list[Distribution], *, excess_eur: Decimal) -> Decimal:
    """Return the most enterprises may receive over the year [EUR], by the engine's rule.

    The rule is cercalc.distribution.enterprise_ceiling_cents: the amounts distributed, less
    the year's excess, less the pots that are not social. Each month's pots keep their own
    social flag (a policy may change during the year), so they are keyed by distribution.
    """
    amount_eur = sum((d.amount_eur for d in distributions), Decimal(0))
    pot_cents: dict[str, int] = {}
    social: set[str] = set()
    for distribution in distributions:
        for pot in distribution.pots:
            key = f"{distribution.pk}:{pot['code']}"
            pot_cents[key] = _cents(Decimal(pot["amount_eur"]))
            if pot["social"]:
                social.add(key)
    ceiling = enterprise_ceiling_cents(
        amount_cents=_cents(amount_eur),
        excess_cents=_cents(excess_eur),
        pot_cents=pot_cents,
        social=social,
    )
    # Nothing left reads 0 on the year page; a positive ceiling keeps its cents (12.30).
    return Decimal(ceiling).scaleb(-2) if ceiling else Decimal(0)


def _cents(amount_eur: Decimal) -> int:
    # Every amount here is already whole cents (amount fields, pots and the excess are
    # rounded half up to the cent), so the conversion is exact, as in the engine.
    return int(amount_eur * 100)
