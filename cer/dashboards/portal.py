"""The member portal's money: what a member earned in a month and in a year, paid or not.

Nothing is calculated here that another module already knows:

- a month with a statement: the member's position is the sum of the lines of the current
  statement(s) of that month, and what was paid of it, from cer.billing.positions (the
  statement page and the yearly statement read the same figures);
- a month settled but not yet distributed: the run exists, the member's part does not yet;
- a month not settled: the engine's estimate of the amount for the community's
  configurations where the member takes part (cer.dashboards.money), labelled an estimate.
  The member's own part of it is known only once the month is distributed by the policy.

Each month carries its status in words ("estimate, not yet paid", "settled, provisional",
"final, paid on …") so the portal never shows a bare code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from cer.billing.models import PaidLine, Statement, StatementStatus
from cer.billing.payout_models import PayoutItemStatus
from cer.billing.positions import ZERO, Position, ledgers
from cer.communications.models import CommunicationRecipient
from cer.communities.models import Community
from cer.core import formatting
from cer.dashboards import money
from cer.members.models import ApplicationStatus, MembershipApplication
from cercalc import periods
from cercalc.periods import ROME, Period


@dataclass(frozen=True)
class MonthMoney:
    """One month of the member's money: their position, or the community's estimate."""

    month: dt.date
    # The member's position (statements) and what was paid of it; zero when none yet.
    position: Position
    # The community's amount for the member's configurations, when not settled [EUR].
    estimate_eur: Decimal | None
    status: str
    statements: list[Statement] = field(default_factory=list)

    @property
    def has_statement(self) -> bool:
        return bool(self.statements)


@dataclass(frozen=True)
class PortalMoney:
    """The first screen: the chosen month and the year it belongs to."""

    month: MonthMoney | None
    months: list[MonthMoney]
    year: int

    @property
    def year_position(self) -> Position:
        return sum((m.position for m in self.months), Position(ZERO, ZERO))

    @property
    def year_estimate_eur(self) -> Decimal:
        return sum((m.estimate_eur or ZERO for m in self.months), ZERO)

    @property
    def estimated_months(self) -> int:
        return sum(1 for m in self.months if m.estimate_eur is not None)


def member_money(
    *,
    community: Community,
    member_id: int,
    configuration_ids: set[int],
    period: Period,
    now: dt.datetime,
) -> PortalMoney:
    """Return the member's money for the period's month (or latest begun month) and year."""
    year = period.start.year
    figures = money.period_figures(
        community=community,
        period=periods.year(year),
        now=now,
        configuration_ids=configuration_ids,
    )
    statements = list(
        Statement.objects.filter(
            member_id=member_id,
            configuration__community=community,
            month__year=year,
            status=StatementStatus.CURRENT,
        )
        .select_related("distribution__run")
        .prefetch_related("lines")
        .order_by("month", "configuration_id")
    )
    positions = ledgers(statements)
    paid_on = _paid_dates(statements)
    by_month: dict[dt.date, list[MonthFigures]] = {}
    for figure in figures.months:
        by_month.setdefault(figure.month, []).append(figure)
    months = []
    for month_start in sorted(by_month):
        own = [s for s in statements if s.month == month_start]
        months.append(_month(month_start, by_month[month_start], own, positions, paid_on))
    wanted = period.start if period.is_month else None
    chosen = next((m for m in months if m.month == wanted), None)
    if chosen is None and wanted is None and months:
        chosen = months[-1]
    return PortalMoney(month=chosen, months=months, year=year)


MonthFigures = money.MonthFigures


def _month(
    month_start: dt.date,
    figures: list[MonthFigures],
    statements: list[Statement],
    positions: dict[int, tuple[list, Position]],
    paid_on: dict[int, dt.date | None],
) -> MonthMoney:
    if statements:
        position = sum((positions[s.pk][1] for s in statements), Position(ZERO, ZERO))
        return MonthMoney(
            month=month_start,
            position=position,
            estimate_eur=None,
            status=_statement_status(statements, position, paid_on),
            statements=statements,
        )
    if any(f.settled for f in figures):
        status = (
            _("settled, being distributed")
            if any(f.distributed for f in figures)
            else _("settled, not yet distributed")
        )
        return MonthMoney(month_start, Position(ZERO, ZERO), None, status)
    estimate = sum((f.amount_eur for f in figures), ZERO)
    return MonthMoney(month_start, Position(ZERO, ZERO), estimate, _("estimate, not yet paid"))


def _statement_status(
    statements: list[Statement], position: Position, paid_on: dict[int, dt.date | None]
) -> str:
    provisional = any(s.provisional or not s.distribution.run.is_final for s in statements)
    head = _("settled, provisional") if provisional else _("final")
    if position.owed_eur > 0:
        return _("%(head)s, %(amount)s to give back") % {
            "head": head,
            "amount": formatting.eur(position.owed_eur),
        }
    if position.to_pay_eur > 0:
        if position.paid_eur > 0:
            return _("%(head)s, partly paid, %(amount)s still to be paid") % {
                "head": head,
                "amount": formatting.eur(position.to_pay_eur),
            }
        return _("%(head)s, not yet paid") % {"head": head}
    dates = [paid_on.get(s.pk) for s in statements]
    if position.paid_eur > 0 and all(dates):
        return _("%(head)s, paid on %(date)s") % {
            "head": head,
            "date": formatting.day(max(d for d in dates if d)),
        }
    if position.paid_eur > 0:
        return _("%(head)s, paid") % {"head": head}
    return _("%(head)s, nothing to pay") % {"head": head}


def _paid_dates(statements: list[Statement]) -> dict[int, dt.date | None]:
    """The day each statement's paid lines were paid: the bank's outcome, else the batch's
    execution date; the latest across its lines."""
    roots = {line.root_id: s.pk for s in statements for line in s.lines.all()}
    dates: dict[int, dt.date | None] = {}
    paid = PaidLine.objects.filter(line_id__in=roots, released_at__isnull=True).select_related(
        "item__batch"
    )
    for paid_line in paid:
        item = paid_line.item
        if item.status == PayoutItemStatus.SETTLED and item.outcome_at:
            day = item.outcome_at.astimezone(ROME).date()
        else:
            day = item.batch.execution_date
        pk = roots[paid_line.line_id]
        dates[pk] = max(filter(None, (dates.get(pk), day)))
    return dates


def pending_applications(user_id: int) -> list[MembershipApplication]:
    """The user's applications not decided yet, or rejected, newest first."""
    return list(
        MembershipApplication.objects.filter(
            user_id=user_id,
            status__in=[
                ApplicationStatus.IN_PROGRESS,
                ApplicationStatus.SUBMITTED,
                ApplicationStatus.REJECTED,
            ],
        )
        .select_related("community")
        .order_by("-started_at")
    )


def recent_messages(
    *, member_id: int, community_id: int, limit: int = 5
) -> list[CommunicationRecipient]:
    """The latest messages the community sent the member, newest first (the portal's list)."""
    return list(
        CommunicationRecipient.objects.filter(
            member_id=member_id, communication__community_id=community_id
        )
        .select_related("communication")
        .order_by("-communication__sent_at", "-pk")[:limit]
    )
