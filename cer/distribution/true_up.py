"""The yearly 55 %/45 % true-up: the rule applied to the year, as GSE checks it.

The year is recomputed with the engine (cer.settlement.year.year_summary: the excess over the
whole Europe/Rome year); the community's policy valid on 31 December is applied to it by
cercalc.true_up (enterprises keep at most the ceiling, the rest goes to the social pot and to
the other members); the members' lines (kind YEAR_EXCESS, negative for enterprises, positive
for those who gain) are added to their December statements through
cer.billing.statements.add_lines, so the next payout nets them. A later true-up of the same
year, after a month changed, adds only the difference (docs/algorithms/excess.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.billing.models import LineKind
from cer.billing.statements import NewLine, add_lines
from cer.communities.models import Configuration
from cer.core import formatting
from cer.distribution.models import (
    Distribution,
    DistributionPolicy,
    MemberShare,
    YearTrueUp,
    YearTrueUpLine,
)
from cer.distribution.services import NoPolicy, policy_on
from cer.members.models import Member, MemberCategory
from cer.settlement.models import RunMember
from cer.settlement.year import YearSummary, year_summary
from cercalc import true_up as engine
from cercalc.distribution import ExcessCeilingExceeded
from cercalc.true_up import NowhereToMove

__all__ = [
    "ExcessCeilingExceeded",
    "NoPolicy",
    "NothingChanged",
    "NowhereToMove",
    "TrueUpPlan",
    "YearNotReady",
    "plan_true_up",
    "true_up_year",
]


class YearNotReady(Exception):
    """A month of the year is not settled or its latest version is not distributed."""

    def __init__(self, *, missing: list[dt.date], undistributed: list[dt.date], problem: str):
        months = ", ".join(formatting.month(m) for m in [*missing, *undistributed])
        super().__init__(f"{problem}: {months}" if months else problem)
        self.missing = missing
        self.undistributed = undistributed


class NothingChanged(Exception):
    """The year was trued up already and nothing would be added."""


@dataclass(frozen=True)
class TrueUpPlan:
    """What a true-up would record: the year's figures and each member's addition [EUR]."""

    configuration: Configuration
    year: int
    policy: DistributionPolicy
    social_pot: str
    december: Distribution
    result: engine.YearTrueUp
    received: dict[int, tuple[bool, Decimal]]
    additions: dict[int, Decimal]
    names: dict[int, str]
    inputs_hash: str
    runs: dict[str, dict[str, int]]
    sequence: int


def plan_true_up(*, configuration: Configuration, year: int) -> TrueUpPlan:
    """Compute the year's true-up without storing anything (the confirmation page names it).

    Raises YearNotReady (a month not settled or not distributed, or the year's excess cannot
    be computed), NoPolicy, ExcessCeilingExceeded (the policy refuses and enterprises are
    above the ceiling), NowhereToMove, NothingChanged (a true-up exists and nothing would
    be added).
    """
    summary = year_summary(configuration=configuration, year=year)
    if summary.missing_months or summary.undistributed_months:
        raise YearNotReady(
            missing=summary.missing_months,
            undistributed=summary.undistributed_months,
            problem=_("every month must be settled and its latest version distributed"),
        )
    if summary.year_excess_eur is None or summary.inputs_hash is None:
        raise YearNotReady(
            missing=[],
            undistributed=[],
            problem=_("the year's excess cannot be computed (%(why)s)")
            % {"why": "; ".join(summary.year_warnings)},
        )
    year_end = dt.date(year, 12, 31)
    policy = policy_on(configuration.community_id, year_end)
    if policy is None:
        raise NoPolicy(_("no distribution policy valid on %(day)s") % {"day": year_end})
    distributions = [run.distribution for run in summary.runs]
    received, names = _received(summary, distributions)
    pots: dict[str, Decimal] = {}
    social: set[str] = set()
    for distribution in distributions:
        for pot in distribution.pots:
            key = f"{distribution.pk}:{pot['code']}"
            pots[key] = Decimal(pot["amount_eur"])
            if pot["social"]:
                social.add(key)
    social_pot = policy.pots.filter(social=True).values_list("code", flat=True).first() or ""
    result = engine.true_up_year(
        amount_eur=sum((d.amount_eur for d in distributions), Decimal(0)),
        excess_eur=summary.year_excess_eur,
        pots=pots,
        social=social,
        members=[
            engine.Received(str(member_id), enterprise, amount)
            for member_id, (enterprise, amount) in received.items()
        ],
        policy=policy.excess_policy,
        to_social_percent=policy.excess_to_social_percent,
        has_social_pot=bool(social_pot),
    )
    earlier = dict(
        YearTrueUpLine.objects.filter(true_up__configuration=configuration, true_up__year=year)
        .values("member_id")
        .annotate(total=Sum("added_eur"))
        .values_list("member_id", "total")
    )
    changes = {int(member_id): amount for member_id, amount in result.changes.items()}
    additions = {
        member_id: changes.get(member_id, Decimal(0)) - earlier.get(member_id, Decimal(0))
        for member_id in sorted(set(changes) | set(earlier))
    }
    additions = {member_id: amount for member_id, amount in additions.items() if amount}
    last = summary.true_ups[-1] if summary.true_ups else None
    if last is not None and not additions:
        raise NothingChanged(
            _("the year was trued up on %(day)s and nothing would change")
            % {"day": formatting.day(timezone.localtime(last.created_at))}
        )
    return TrueUpPlan(
        configuration=configuration,
        year=year,
        policy=policy,
        social_pot=social_pot,
        december=distributions[-1],
        result=result,
        received=received,
        additions=additions,
        names=names,
        inputs_hash=summary.inputs_hash,
        runs={
            f"{run.month:%Y-%m}": {
                "run": run.pk,
                "version": run.version,
                "distribution": run.distribution.pk,
            }
            for run in summary.runs
        },
        sequence=(last.sequence + 1) if last else 1,
    )


def true_up_year(
    *, configuration: Configuration, year: int, actor: Any, now: dt.datetime
) -> YearTrueUp:
    """Apply the 55 %/45 % rule to a settlement year and add the lines to December.

    Source: DM 414/2023 art. 3 c. 2 lett. g, GSE FAQ (the ratio is yearly), REGULATION.md §5;
    docs/algorithms/excess.md. Each member's addition (the year's change less what earlier
    true-ups added) becomes a YEAR_EXCESS line on the December statement; a member without
    one gets it. Audited as distribution.year_true_up.created. Raises what plan_true_up
    raises; nothing is stored then.
    """
    with transaction.atomic():
        # One true-up of a configuration at a time: the sequence and the differences hold.
        Configuration.objects.select_for_update().filter(pk=configuration.pk).first()
        plan = plan_true_up(configuration=configuration, year=year)
        result = plan.result
        true_up = YearTrueUp.objects.create(
            configuration=configuration,
            year=year,
            sequence=plan.sequence,
            policy=plan.policy,
            excess_policy=plan.policy.excess_policy,
            december=plan.december,
            amount_eur=result.amount_eur,
            excess_eur=result.excess_eur,
            ceiling_eur=result.ceiling_eur,
            enterprise_eur=result.enterprise_eur,
            moved_eur=result.moved_eur,
            moved_to_social_eur=result.moved_to_social_eur,
            moved_to_members_eur=result.moved_to_members_eur,
            social_pot=plan.social_pot,
            inputs_hash=plan.inputs_hash,
            runs=plan.runs,
            created_at=now,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        changes = {int(m): amount for m, amount in result.changes.items()}
        YearTrueUpLine.objects.bulk_create(
            YearTrueUpLine(
                true_up=true_up,
                member_id=member_id,
                enterprise=enterprise,
                received_eur=received,
                year_change_eur=changes.get(member_id, Decimal(0)),
                added_eur=plan.additions.get(member_id, Decimal(0)),
            )
            for member_id, (enterprise, received) in plan.received.items()
        )
        add_lines(
            distribution=plan.december,
            lines={
                member_id: [NewLine(LineKind.YEAR_EXCESS, _line_text(amount, year), amount)]
                for member_id, amount in plan.additions.items()
            },
            reason=_("55 %%/45 %% true-up of %(year)s") % {"year": year},
            now=now,
        )
        record(
            actor=actor,
            code="distribution.year_true_up.created",
            now=now,
            target=true_up,
            community=configuration.community,
            changes={
                "year": year,
                "sequence": plan.sequence,
                "excess_eur": str(result.excess_eur),
                "ceiling_eur": str(result.ceiling_eur),
                "enterprise_eur": str(result.enterprise_eur),
                "moved_eur": str(result.moved_eur),
                "moved_to_social_eur": str(result.moved_to_social_eur),
                "moved_to_members_eur": str(result.moved_to_members_eur),
                "added": {str(m): str(amount) for m, amount in plan.additions.items()},
                "inputs_hash": plan.inputs_hash,
            },
        )
    return true_up


def _received(
    summary: YearSummary, distributions: list[Distribution]
) -> tuple[dict[int, tuple[bool, Decimal]], dict[int, str]]:
    """Return each member's year (enterprise?, shares received [EUR]) and display name.

    A member counts as an enterprise by its category in the last month it took part in: the
    category a settlement run recorded for it.
    """
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for member_id, amount in MemberShare.objects.filter(distribution__in=distributions).values_list(
        "member_id", "amount_eur"
    ):
        totals[member_id] += amount
    category: dict[int, str] = {}
    for member_id, value in (
        RunMember.objects.filter(run__in=summary.runs)
        .order_by("run__month")
        .values_list("member_id", "category")
    ):
        category[member_id] = value
    enterprises = MemberCategory.enterprises()
    fields = ("kind", "first_name", "last_name", "company_name")
    names = {
        member.pk: member.display_name
        for member in Member.objects.filter(pk__in=list(totals)).only(*fields)
    }
    return (
        {m: (category.get(m) in enterprises, totals[m]) for m in sorted(totals)},
        names,
    )


def _line_text(amount: Decimal, year: int) -> str:
    if amount < 0:
        return _(
            "55 %%/45 %% rule for %(year)s: the part of the year's excess that enterprises "
            "may not receive"
        ) % {"year": year}
    return _("55 %%/45 %% rule for %(year)s: your part of the excess moved from enterprises") % {
        "year": year
    }
