"""The shared energy and money the dashboards and the member portal show: the settlement's.

There is no second calculation here. For each configuration and month of a period:

- **settled** (a settlement run exists): the latest run's shared energy, incentive,
  valorisation and GSE fee provision, and its members' rows; the amount for the members is
  the distributed amount where the run was distributed, otherwise the amount the
  distribution would share out (cer.distribution.services.amount_for);
- **not settled, begun**: an *estimate*, the engine over the readings at hand
  (cer.settlement.inputs.load_inputs, cer.settlement.services.settle_inputs, the members'
  rows as a run stores them: cer.settlement.services.member_rows), with the month's share of
  the yearly GSE fees as a run carries it (REGULATION.md §7);
- **not begun**: nothing.

So membership dates, the attribution to plants and the consumers' largest-remainder split
are the engine's (cercalc.settle, cercalc.distribution), as on the statements. Estimates are
cached for a few minutes under the hash of their inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.core.cache import caches
from django.utils.connection import ConnectionProxy

from cer.communities.models import Community, Configuration
from cer.distribution.models import Distribution
from cer.distribution.services import amount_for
from cer.metering.series import ReadingsWindow
from cer.settlement.inputs import load_inputs
from cer.settlement.models import RunMember, SettlementRun
from cer.settlement.services import (
    SettlementError,
    member_rows,
    month_fee_provision,
    settle_inputs,
)
from cercalc.periods import Period

cache = ConnectionProxy(caches, "local")
CACHE_SECONDS = 300

# A member's hourly series as a run packs them (cer.settlement.models.RunMember.hourly).
INJECTED, WITHDRAWN, AS_CONSUMER, AS_PRODUCER = range(4)


@dataclass(frozen=True)
class MonthFigures:
    """One configuration's month: settled (a run) or estimated by the engine."""

    configuration_id: int
    month: dt.date
    hours: int
    settled: bool
    distributed: bool
    shared_wh: int
    incentive_eur: Decimal
    valorisation_eur: Decimal
    fees_eur: Decimal
    amount_eur: Decimal  # for the members: distributed, or what would be distributed
    run_id: int | None
    # member id -> hourly series (4 x hours: injected, withdrawn, as consumer, as producer)
    members: dict[int, np.ndarray] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeriodFigures:
    period: Period
    months: list[MonthFigures]

    def _sum(self, name: str, *, settled: bool | None = None) -> Decimal:
        return sum(
            (getattr(m, name) for m in self.months if settled is None or m.settled == settled),
            Decimal(0),
        )

    @property
    def shared_wh(self) -> int:
        return sum(m.shared_wh for m in self.months)

    @property
    def settled_amount_eur(self) -> Decimal:
        return self._sum("amount_eur", settled=True)

    @property
    def estimated_amount_eur(self) -> Decimal:
        return self._sum("amount_eur", settled=False)

    @property
    def amount_eur(self) -> Decimal:
        return self._sum("amount_eur")

    @property
    def incentive_eur(self) -> Decimal:
        return self._sum("incentive_eur")

    @property
    def valorisation_eur(self) -> Decimal:
        return self._sum("valorisation_eur")

    @property
    def fees_eur(self) -> Decimal:
        return self._sum("fees_eur")

    @property
    def settled_months(self) -> int:
        return len({m.month for m in self.months if m.settled})

    @property
    def estimated_months(self) -> int:
        return len({m.month for m in self.months if not m.settled})

    def member_hourly(self, member_id: int) -> np.ndarray:
        """The member's series over the period (4 x hours), zero where nothing is known."""
        out = np.zeros((4, self.period.hours), dtype=np.int64)
        offsets = _month_offsets(self.period)
        for month in self.months:
            series = month.members.get(member_id)
            if series is not None:
                start = offsets[month.month]
                out[:, start : start + month.hours] += series
        return out


def _month_offsets(period: Period) -> dict[dt.date, int]:
    offsets, start = {}, 0
    for month in period.months():
        offsets[month.start] = start
        start += month.hours
    return offsets


def _settled(run: SettlementRun, *, with_members: bool) -> MonthFigures:
    distribution = Distribution.objects.filter(run=run).first()
    amount = distribution.amount_eur if distribution else amount_for(run)[1]
    members = {}
    if with_members:
        members = {
            row.member_id: row.hourly()
            for row in RunMember.objects.filter(run=run).only("member_id", "series")
        }
    return MonthFigures(
        configuration_id=run.configuration_id,
        month=run.month,
        hours=run.hours,
        settled=True,
        distributed=distribution is not None,
        shared_wh=run.shared_wh,
        incentive_eur=run.incentive_eur,
        valorisation_eur=run.valorisation_eur,
        fees_eur=run.gse_fees_eur,
        amount_eur=amount,
        run_id=run.pk,
        members=members,
    )


def _estimate(
    configuration: Configuration, month: Period, readings: ReadingsWindow | None = None
) -> MonthFigures:
    zero = Decimal("0.00")
    inputs = load_inputs(
        configuration=configuration, hours=month.hour_starts_s(), readings=readings
    )
    # Keyed on everything the engine reads (readings, prices, parameters, membership).
    key = f"dashboards:estimate:{configuration.pk}:{month.key}:{inputs.inputs_hash()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        result = settle_inputs(inputs)
    except SettlementError as error:
        figures = MonthFigures(
            configuration_id=configuration.pk,
            month=month.start,
            hours=month.hours,
            settled=False,
            distributed=False,
            shared_wh=0,
            incentive_eur=zero,
            valorisation_eur=zero,
            fees_eur=zero,
            amount_eur=zero,
            run_id=None,
            warnings=(str(error),),
        )
    else:
        fees = month_fee_provision(configuration, month.start, result)
        figures = MonthFigures(
            configuration_id=configuration.pk,
            month=month.start,
            hours=month.hours,
            settled=False,
            distributed=False,
            shared_wh=result.shared_total_wh,
            incentive_eur=result.incentive_eur,
            valorisation_eur=result.valorisation_eur,
            fees_eur=fees,
            amount_eur=result.incentive_eur + result.valorisation_eur - fees,
            run_id=None,
            members={row.member_id: row.hourly() for row in member_rows(None, inputs, result)},
            warnings=tuple(result.warnings),
        )
    cache.set(key, figures, CACHE_SECONDS)
    return figures


def period_figures(
    *,
    community: Community,
    period: Period,
    now: dt.datetime,
    configuration_ids: set[int] | None = None,
    with_members: bool = False,
    readings: Mapping[int, ReadingsWindow] | None = None,
) -> PeriodFigures:
    """Return the settled or estimated figures of each configuration and month that has begun.

    `configuration_ids` limits the configurations (a member's own); `with_members` also
    reads the members' hourly series (the member portal). `readings`, per configuration,
    are readings already read over the period (services.community_period_data): an
    estimate takes them instead of reading the month again.
    """
    configurations = list(community.configurations.all().order_by("pk"))
    if configuration_ids is not None:
        configurations = [c for c in configurations if c.pk in configuration_ids]
    months = [m for m in period.months() if m.utc_bounds()[0] < now]
    latest: dict[tuple[int, dt.date], SettlementRun] = {}
    for run in SettlementRun.objects.filter(
        configuration__in=configurations,
        month__in=[m.start for m in months],
    ).order_by("version"):
        latest[(run.configuration_id, run.month)] = run
    figures = []
    for configuration in configurations:
        for month in months:
            stored = latest.get((configuration.pk, month.start))
            if stored is not None:
                figures.append(_settled(stored, with_members=with_members))
            else:
                window = (readings or {}).get(configuration.pk)
                figures.append(_estimate(configuration, month, window))
    return PeriodFigures(period=period, months=figures)


def money_version(community: Community) -> str:
    """A key that changes when a run or a distribution of the community is added or removed."""
    runs = SettlementRun.objects.filter(configuration__community=community)
    distributions = Distribution.objects.filter(run__configuration__community=community)
    last_run = runs.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_distribution = distributions.order_by("-pk").values_list("pk", flat=True).first() or 0
    return f"r{runs.count()}.{last_run}d{distributions.count()}.{last_distribution}"
