"""Distribution workflows: set a dated policy, apply it to a settlement run.

The split itself is cercalc.distribution (pots, components, largest remainder, the 55 %/45 %
ceiling); this module turns the stored policy into a plan, the run's members into
participants, stores the outcome and issues the members' statements in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from cer.audit.services import record
from cer.communities.models import Community
from cer.core import formatting
from cer.core.bulk import insert_rows
from cer.distribution.models import (
    AmountBasis,
    CustomWeight,
    Distribution,
    DistributionBasis,
    DistributionPolicy,
    ExcessPolicy,
    MemberShare,
    MissingDataPolicy,
    PolicyComponent,
    PolicyPot,
)
from cer.members.models import MemberCategory, Membership
from cer.settlement.models import GseAmount, GseAmountKind, RunMember, SettlementRun
from cercalc import distribution as split
from cercalc.distribution import ExcessCeilingExceeded, InvalidPlan

__all__ = [
    "ExcessCeilingExceeded",
    "InvalidPlan",
    "NegativeAmount",
    "NoPolicy",
    "PolicyConflict",
    "SupersededVersion",
    "amount_for",
    "distribute_run",
    "ensure_latest_version",
    "month_amount",
    "policy_on",
    "set_policy",
]


class NoPolicy(Exception):
    """The community has no distribution policy valid for the month."""


class PolicyConflict(Exception):
    """A policy already starts on or after that date."""


class NegativeAmount(Exception):
    """The month's fees exceed its incentives: nothing can be distributed."""


class SupersededVersion(Exception):
    """A newer settlement version of the month exists: only the latest is distributed."""

    def __init__(self, run: SettlementRun, current_version: int) -> None:
        super().__init__(
            gettext(
                "Version %(version)s of %(month)s has been replaced by version %(current)s: "
                "only the latest version of a month can be distributed."
            )
            % {
                "version": run.version,
                "month": formatting.month(run.month),
                "current": current_version,
            }
        )
        self.run = run
        self.current_version = current_version


def ensure_latest_version(run: SettlementRun) -> None:
    """Refuse a run that a newer version of its month replaces. Raises SupersededVersion."""
    current = (
        SettlementRun.objects.filter(configuration_id=run.configuration_id, month=run.month)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    if current is not None and current != run.version:
        raise SupersededVersion(run, current)


def policy_on(community_id: int, day: dt.date) -> DistributionPolicy | None:
    """Return the community's distribution policy valid on `day`, if any."""
    return (
        DistributionPolicy.objects.filter(community_id=community_id, valid_from__lte=day)
        .exclude(valid_to__lte=day)
        .order_by("-valid_from")
        .first()
    )


def plan_of(policy: DistributionPolicy) -> split.Plan:
    """Return the engine's plan for a stored policy."""
    return split.Plan(
        pots=tuple(
            split.Pot(pot.code, percent=pot.percent, fixed_eur=pot.fixed_eur, social=pot.social)
            for pot in policy.pots.all()
        ),
        components=tuple(
            split.Component(c.basis, c.percent, c.producers_percent)
            for c in policy.components.all()
        ),
        excess_policy=policy.excess_policy,
        excess_to_social_percent=policy.excess_to_social_percent,
    )


def set_policy(
    *,
    community: Community,
    valid_from: dt.date,
    pots: Sequence[dict[str, Any]],
    components: Sequence[dict[str, Any]],
    custom_weights: dict[int, Decimal] | None = None,
    excess_policy: str = ExcessPolicy.CORRECT,
    excess_to_social_percent: Decimal = Decimal(0),
    missing_data: str = MissingDataPolicy.PROVISIONAL,
    actor: Any,
    now: dt.datetime,
) -> DistributionPolicy:
    """Store a policy valid from a date on, closing the one it replaces.

    `pots`: [{"code", "label", "percent" or "fixed_eur", "social"}]; `components`:
    [{"basis", "percent", "producers_percent"}]. The plan is checked before anything is
    stored. `custom_weights` maps member ids to weights; each must have a membership of the
    community. Raises InvalidPlan (naming the field) and PolicyConflict.
    """
    plan = split.Plan(
        pots=tuple(
            split.Pot(
                p["code"],
                percent=p.get("percent"),
                fixed_eur=p.get("fixed_eur"),
                social=bool(p.get("social")),
            )
            for p in pots
        ),
        components=tuple(
            split.Component(
                c["basis"], Decimal(c["percent"]), Decimal(c.get("producers_percent") or 0)
            )
            for c in components
        ),
        excess_policy=excess_policy,
        excess_to_social_percent=excess_to_social_percent,
    )
    split.check_plan(plan)
    weights = custom_weights or {}
    if any(c.basis == split.CUSTOM for c in plan.components) and not any(weights.values()):
        raise InvalidPlan("custom_weights", "the custom basis needs at least one weight")
    if any(weight < 0 for weight in weights.values()):
        raise InvalidPlan("custom_weights", "weights must not be negative")
    members = set(
        Membership.objects.filter(community=community, member_id__in=list(weights)).values_list(
            "member_id", flat=True
        )
    )
    if set(weights) - members:
        # Whoever never belonged to the community gets no weight in its policy; the problem
        # names no one, so it reveals nothing about people elsewhere.
        raise InvalidPlan(
            "custom_weights", gettext("a weight is given to someone who is not a member")
        )
    with transaction.atomic():
        if DistributionPolicy.objects.filter(
            community=community, valid_from__gte=valid_from
        ).exists():
            raise PolicyConflict(f"a policy already starts on or after {valid_from}")
        current = policy_on(community.pk, valid_from)
        if current is not None:
            current.valid_to = valid_from
            current.save(update_fields=["valid_to"])
        policy = DistributionPolicy.objects.create(
            community=community,
            valid_from=valid_from,
            excess_policy=excess_policy,
            excess_to_social_percent=excess_to_social_percent,
            missing_data=missing_data,
            created_at=now,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        PolicyPot.objects.bulk_create(
            PolicyPot(
                policy=policy,
                code=p["code"],
                label=p.get("label") or p["code"],
                percent=p.get("percent"),
                fixed_eur=p.get("fixed_eur"),
                social=bool(p.get("social")),
                position=index,
            )
            for index, p in enumerate(pots)
        )
        PolicyComponent.objects.bulk_create(
            PolicyComponent(
                policy=policy,
                basis=c.basis,
                percent=c.percent,
                producers_percent=c.producers_percent,
                position=index,
            )
            for index, c in enumerate(plan.components)
        )
        CustomWeight.objects.bulk_create(
            CustomWeight(policy=policy, member_id=member_id, weight=weight)
            for member_id, weight in weights.items()
        )
        record(
            actor=actor,
            code="distribution.policy.set",
            now=now,
            target=policy,
            community=community,
            changes={
                "valid_from": valid_from.isoformat(),
                "closed": current.pk if current else None,
            },
        )
    return policy


@dataclass(frozen=True)
class AmountPart:
    """One kind of a month's amount [EUR, signed: fees negative] and where it came from."""

    kind: str
    source: str
    amount_eur: Decimal

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "source": self.source, "amount_eur": str(self.amount_eur)}


@dataclass(frozen=True)
class MonthAmount:
    """The amount a month can distribute, kind by kind, and the basis it adds up to."""

    parts: tuple[AmountPart, ...]

    @property
    def total_eur(self) -> Decimal:
        return sum((part.amount_eur for part in self.parts), Decimal(0))

    @property
    def basis(self) -> str:
        sources = {part.source for part in self.parts}
        if sources == {AmountBasis.GSE}:
            return AmountBasis.GSE
        return AmountBasis.MIXED if AmountBasis.GSE in sources else AmountBasis.SHADOW

    def as_json(self) -> list[dict[str, str]]:
        return [part.as_json() for part in self.parts]


def month_amount(run: SettlementRun) -> MonthAmount:
    """Return the month's distributable amount kind by kind, each from its best source [EUR].

    For the tariff (TIP), the valorisation and the fees, GSE's certified amounts of that kind
    win where they exist (REGULATION.md §10: GSE's figures are authoritative); a kind GSE has
    not certified comes from our settlement: the run's TIP, its valorisation and its fee
    provision (REGULATION.md §7, trued up in December). Certified conguaglio rows (GSE's
    balance for the month, either sign) are added. Uncertified rows (estimates) and advances
    (cash on account of the same amounts) never count. Fees are subtracted.
    """
    certified: dict[str, Decimal] = {}
    for kind, amount in GseAmount.objects.filter(
        configuration_id=run.configuration_id, month=run.month, certified=True
    ).values_list("kind", "amount_eur"):
        # A fee is a charge whatever sign the file gave it (docs/settlement.md).
        value = abs(amount) if kind == GseAmountKind.FEES else amount
        certified[kind] = certified.get(kind, Decimal(0)) + value
    ours = {
        GseAmountKind.TIP: run.incentive_eur,
        GseAmountKind.VALORISATION: run.valorisation_eur,
        GseAmountKind.FEES: run.gse_fees_eur,
    }
    parts = []
    for kind, shadow in ours.items():
        source, value = (
            (AmountBasis.GSE, certified[kind])
            if kind in certified
            else (AmountBasis.SHADOW, shadow)
        )
        parts.append(AmountPart(kind, source, -value if kind == GseAmountKind.FEES else value))
    if GseAmountKind.CONGUAGLIO in certified:
        parts.append(
            AmountPart(
                GseAmountKind.CONGUAGLIO, AmountBasis.GSE, certified[GseAmountKind.CONGUAGLIO]
            )
        )
    return MonthAmount(parts=tuple(parts))


def amount_for(run: SettlementRun) -> tuple[str, Decimal]:
    """Return where the month's amount comes from (GSE, SHADOW or MIXED) and the amount [EUR].

    See month_amount, which gives the same amount kind by kind.
    """
    amount = month_amount(run)
    return amount.basis, amount.total_eur


def distribute_run(*, run: SettlementRun, actor: Any, now: dt.datetime) -> Distribution:
    """Share out a run's amount by the policy valid in its month and issue the statements.

    A run is distributed once (the same run gives back its distribution). The month's
    55 %/45 % excess is passed as an indication: it is stored with the enterprises' ceiling,
    but no share is cut and the month is never refused for it; the rule is applied to the
    year by cer.distribution.true_up. Raises NoPolicy, NegativeAmount,
    InvalidPlan and SupersededVersion (a newer version of the month exists: distributing an
    older one would revert the statements).
    """
    ensure_latest_version(run)
    existing = Distribution.objects.filter(run=run).first()
    if existing is not None:
        return existing
    policy = policy_on(run.configuration.community_id, run.month)
    if policy is None:
        raise NoPolicy(f"no distribution policy for {run.month:%Y-%m}")
    month_total = month_amount(run)
    basis, amount = month_total.basis, month_total.total_eur
    if amount < 0:
        raise NegativeAmount(f"the month's amount is {amount} EUR")
    plan = plan_of(policy)
    weights = dict(policy.weights.values_list("member_id", "weight"))
    # Plain values, not model instances: a run has a thousand members.
    members = RunMember.objects.filter(run=run).values_list(
        "member_id", "category", "producer_shared_wh", "consumer_shared_wh", "active_hours"
    )
    enterprises = MemberCategory.enterprises()
    participants = [
        split.Participant(
            member_id=str(member_id),
            enterprise=category in enterprises,
            producer_wh=producer_wh,
            consumer_wh=consumer_wh,
            active_hours=active_hours,
            custom_weight=weights.get(member_id, Decimal(0)),
        )
        for member_id, category, producer_wh, consumer_wh, active_hours in members
    ]
    # The month's excess is indicative only (GSE checks the rule on the year).
    outcome = split.distribute(
        amount_eur=amount, excess_eur=run.excess_eur, participants=participants, plan=plan
    )
    labels = {pot.code: (pot.label, pot.social) for pot in policy.pots.all()}
    from cer.billing.statements import issue_statements

    with transaction.atomic():
        distribution = Distribution.objects.create(
            run=run,
            policy=policy,
            amount_basis=basis,
            amount_eur=amount,
            excess_eur=outcome.excess_eur,
            enterprise_ceiling_eur=outcome.enterprise_ceiling_eur,
            enterprise_before_eur=outcome.enterprise_before_eur,
            enterprise_eur=outcome.enterprise_eur,
            moved_to_social_eur=outcome.moved_to_social_eur,
            moved_to_members_eur=outcome.moved_to_members_eur,
            pots=[
                {
                    "code": code,
                    "label": labels[code][0],
                    "social": labels[code][1],
                    "amount_eur": str(value),
                }
                for code, value in outcome.pots.items()
            ],
            plan=_plan_json(plan),
            amount_parts=month_total.as_json(),
            created_at=now,
        )
        # Plain rows, not instances: a thousand shares per month (cer.core.bulk).
        insert_rows(
            MemberShare,
            ("distribution_id", "member_id", "amount_eur", "exact_eur", "correction_eur", "parts"),
            (
                (
                    distribution.pk,
                    int(member_id),
                    value,
                    str(outcome.shares_exact[member_id]),
                    outcome.corrections.get(member_id, Decimal(0)),
                    [
                        {
                            "basis": part.basis,
                            "side": part.side,
                            "weight": str(part.weight),
                            "total_weight": str(part.total_weight),
                            "component_eur": str(part.component_eur),
                            "exact_eur": str(part.exact_eur),
                        }
                        for part in outcome.parts[member_id]
                        if part.weight
                    ],
                )
                for member_id, value in outcome.shares.items()
            ),
        )
        issue_statements(distribution=distribution, now=now)
        record(
            actor=actor,
            code="distribution.distribution.created",
            now=now,
            target=distribution,
            community=run.configuration.community,
            changes={"amount_eur": str(amount), "basis": basis, "run": run.pk},
        )
    return distribution


def _plan_json(plan: split.Plan) -> dict[str, Any]:
    return {
        "pots": [
            {
                "code": pot.code,
                "percent": str(pot.percent) if pot.percent is not None else None,
                "fixed_eur": str(pot.fixed_eur) if pot.fixed_eur is not None else None,
                "social": pot.social,
            }
            for pot in plan.pots
        ],
        "components": [
            {
                "basis": c.basis,
                "percent": str(c.percent),
                "producers_percent": str(c.producers_percent),
            }
            for c in plan.components
        ],
        "excess_policy": plan.excess_policy,
        "excess_to_social_percent": str(plan.excess_to_social_percent),
    }


def enterprise_total(distribution: Distribution) -> Decimal:
    """Return what enterprises received in a distribution [EUR]."""
    return distribution.enterprise_eur


BASIS_LABELS = dict(DistributionBasis.choices)
