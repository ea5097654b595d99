"""Where the community's income comes from: a small registry of sources, and the platform's own.

A source is a function `func(community_id, start, end) -> list[IncomeItem]` giving the income
of the days [start, end). Registered here: GSE (the incentive tariff, the ARERA valorisation
and GSE's conguaglio of each settled month), grants received (cer/grants) and the manual
entries. Other apps register theirs (fee collection does, from its own module) with
`register_income_source`; nothing else needs to change for the report to show them.

The GSE figures of a month are the ones distribution shares out
(cer.distribution.services.month_amount): GSE's certified amounts of a kind where they exist,
our settlement otherwise (REGULATION.md §10: GSE's figures are authoritative). The same
function gives the month's GSE fees, which the report shows as an expense (REGULATION.md §7:
GSE nets them from what it pays), so that they are never typed in the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cer.core import formatting
from cer.distribution.models import AmountBasis
from cer.distribution.services import month_amount
from cer.grants.models import Applicant, DisbursementRequest, PhaseState
from cer.settlement.models import GseAmountKind, SettlementRun
from cer.treasury.models import IncomeCategory, IncomeEntry


@dataclass(frozen=True)
class IncomeItem:
    """One amount received [EUR], on a Europe/Rome day, in an income category."""

    day: dt.date
    category: str
    description: str
    amount: Decimal
    reference: str = ""
    source: str = ""

    @property
    def category_label(self) -> str:
        known = self.category in IncomeCategory.values
        return str(IncomeCategory(self.category).label) if known else self.category


IncomeFunc = Callable[[int, dt.date, dt.date], list[IncomeItem]]


@dataclass(frozen=True)
class IncomeSource:
    code: str
    label: object
    func: IncomeFunc


_SOURCES: dict[str, IncomeSource] = {}


def register_income_source(code: str, label: object, func: IncomeFunc) -> None:
    """Register (or replace) the source `code`; `func(community_id, start, end)` lists its
    income of the days [start, end) as IncomeItem, amounts as Decimal to the cent."""
    _SOURCES[code] = IncomeSource(code=code, label=label, func=func)


def unregister_income_source(code: str) -> None:
    """Remove a source (tests register one for a while)."""
    _SOURCES.pop(code, None)


def income_sources() -> list[IncomeSource]:
    return list(_SOURCES.values())


def income_items(*, community_id: int, start: dt.date, end: dt.date) -> list[IncomeItem]:
    """Every source's income of the days [start, end), by day; each item names its source."""
    items: list[IncomeItem] = []
    for source in _SOURCES.values():
        for item in source.func(community_id, start, end):
            if not start <= item.day < end:
                continue
            items.append(item if item.source else _with_source(item, source.code))
    return sorted(items, key=lambda item: (item.day, item.category, item.description))


def _with_source(item: IncomeItem, code: str) -> IncomeItem:
    return IncomeItem(
        day=item.day,
        category=item.category,
        description=item.description,
        amount=item.amount,
        reference=item.reference,
        source=code,
    )


# --- GSE: the settled months ---------------------------------------------------------------


@dataclass(frozen=True)
class SettledMonth:
    """The latest run of a configuration's month and its amount by kind [EUR, fees positive]."""

    run: SettlementRun
    month: dt.date
    income: dict[str, tuple[str, Decimal]]
    fees: tuple[str, Decimal]


def latest_runs(*, community_id: int, start: dt.date, end: dt.date) -> list[SettlementRun]:
    """The latest version of each configuration's month whose first day is in [start, end)."""
    latest: dict[tuple[int, dt.date], SettlementRun] = {}
    for run in (
        SettlementRun.objects.filter(
            configuration__community_id=community_id, month__gte=start, month__lt=end
        )
        .select_related("configuration")
        .order_by("configuration_id", "month", "version")
    ):
        latest[(run.configuration_id, run.month)] = run
    return list(latest.values())


def settled_months(*, community_id: int, start: dt.date, end: dt.date) -> list[SettledMonth]:
    """Each settled month's income and fees, as distribution reads them (month_amount)."""
    months = []
    for run in latest_runs(community_id=community_id, start=start, end=end):
        income: dict[str, tuple[str, Decimal]] = {}
        fees = (AmountBasis.SHADOW.value, Decimal("0.00"))
        for part in month_amount(run).parts:
            if part.kind == GseAmountKind.FEES:
                fees = (part.source, -part.amount_eur)
            else:
                income[part.kind] = (part.source, part.amount_eur)
        months.append(SettledMonth(run=run, month=run.month, income=income, fees=fees))
    return months


SOURCE_TEXT = {
    AmountBasis.GSE: gettext_lazy("certified by GSE"),
    AmountBasis.SHADOW: gettext_lazy("our settlement"),
}


def _gse_income(community_id: int, start: dt.date, end: dt.date) -> list[IncomeItem]:
    items = []
    for settled in settled_months(community_id=community_id, start=start, end=end):
        for kind, (source, amount) in settled.income.items():
            if amount == 0:
                continue
            items.append(
                IncomeItem(
                    day=settled.month,
                    category=IncomeCategory.GSE,
                    description=_("%(kind)s, %(month)s, %(configuration)s (%(source)s)")
                    % {
                        "kind": GseAmountKind(kind).label,
                        "month": formatting.month(settled.month),
                        "configuration": settled.run.configuration.name,
                        "source": SOURCE_TEXT[AmountBasis(source)],
                    },
                    amount=amount,
                    reference=f"run:{settled.run.pk}:{kind}",
                )
            )
    return items


# --- grants and manual entries -------------------------------------------------------------


def _grants_received(community_id: int, start: dt.date, end: dt.date) -> list[IncomeItem]:
    # Only grants the community applied for: an owner's grant is paid to the owner.
    requests = DisbursementRequest.objects.filter(
        state=PhaseState.PAID,
        received_date__gte=start,
        received_date__lt=end,
        received_eur__isnull=False,
        application__applicant=Applicant.COMMUNITY,
        application__plant__connection_point__configuration__community_id=community_id,
    ).select_related("application__plant")
    return [
        IncomeItem(
            day=request.received_date,
            category=IncomeCategory.GRANTS,
            description=_("PNRR grant, %(phase)s, %(plant)s")
            % {"phase": request.get_kind_display(), "plant": request.application.plant.name},
            amount=request.received_eur,
            reference=f"disbursement:{request.pk}",
        )
        for request in requests
        if request.received_date is not None and request.received_eur is not None
    ]


def _manual_income(community_id: int, start: dt.date, end: dt.date) -> list[IncomeItem]:
    return [
        IncomeItem(
            day=entry.received_date,
            category=entry.category,
            description=entry.description,
            amount=entry.amount_eur,
            reference=entry.reference or f"entry:{entry.pk}",
        )
        for entry in IncomeEntry.objects.filter(
            community_id=community_id, received_date__gte=start, received_date__lt=end
        )
    ]


register_income_source("gse", gettext_lazy("GSE (settlement)"), _gse_income)
register_income_source("grants", gettext_lazy("Grants received"), _grants_received)
register_income_source("manual", gettext_lazy("Entered by hand"), _manual_income)
