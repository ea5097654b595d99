"""Split a community's amount among its statutory pots and its members, to the cent.

In words: the statute first sets pots aside (running costs, social fund, reserve, the
referente's fee), each a percentage of the amount or a fixed sum; the rest goes to the members
by one or more components, each taking a percentage of the rest and splitting it by weights:
each member's contribution to shared energy (producers by the shared energy attributed to their
plants, consumers by their pro rata part of each hour's shared energy), equal parts per hour of
membership, a producers/consumers split by percentage, or custom weights. The 55 %/45 % rule
(DM 414/2023 art. 3 c. 2 lett. g; REGULATION.md §5) requires the excess amount to go only to
members that are not enterprises or to social purposes: enterprises may receive at most
amount - excess - the pots that are not social. GSE checks it on the year, so a month only
reports that ceiling as an indication; the yearly true-up (cercalc.true_up) enforces it. Every
part is kept exact (Fraction) until the end, then all parts are rounded to the cent together
with the largest-remainder rule, so that the parts always add up to the amount (STYLE.md,
Money); ties go to the pots in their order, then to members in numeric id order.

Hourly consumer parts are integers [Wh]: each hour's shared energy is split among consumers in
proportion to their withdrawal with the largest-remainder rule, so that the parts of an hour add
up to that hour's shared energy (REGULATION.md §14: attribution to withdrawal points is
proportional to hourly withdrawals, a project assumption).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from cercalc import buckets
from cercalc.money import round_eur

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CONTRIBUTION = "CONTRIBUTION"
EQUAL = "EQUAL"
PRODUCERS_CONSUMERS = "PRODUCERS_CONSUMERS"
CUSTOM = "CUSTOM"
BASES = (CONTRIBUTION, EQUAL, PRODUCERS_CONSUMERS, CUSTOM)

REFUSE = "REFUSE"
CORRECT = "CORRECT"

_HUNDRED = Fraction(100)
_INT64_MAX = int(np.iinfo(np.int64).max)


class InvalidPlan(ValueError):
    """A distribution plan that cannot be applied; `field` names the offending setting."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


class ExcessCeilingExceeded(ValueError):
    """Enterprises would receive more than the 55 %/45 % rule allows [EUR]."""

    def __init__(self, *, enterprise_eur: Decimal, ceiling_eur: Decimal, excess_eur: Decimal):
        super().__init__(
            f"enterprises would receive {enterprise_eur} EUR, above the ceiling of "
            f"{ceiling_eur} EUR (amount minus the excess of {excess_eur} EUR and the pots "
            "that are not social)"
        )
        self.enterprise_eur = enterprise_eur
        self.ceiling_eur = ceiling_eur
        self.excess_eur = excess_eur


@dataclass(frozen=True)
class Pot:
    """A sum the statute sets aside: a percentage of the amount [%] or a fixed sum [EUR]."""

    code: str
    percent: Decimal | None = None
    fixed_eur: Decimal | None = None
    social: bool = False


@dataclass(frozen=True)
class Component:
    """A part of the rest [% of the rest] split among members by one basis.

    `producers_percent` is used by PRODUCERS_CONSUMERS only: the producers' side [%].
    """

    basis: str
    percent: Decimal
    producers_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class Plan:
    """Pots, components and what the yearly true-up does when enterprises exceed the ceiling.

    `excess_policy` and `excess_to_social_percent` are read by cercalc.true_up only: a month
    is never cut nor refused for its indicative excess.
    """

    pots: tuple[Pot, ...]
    components: tuple[Component, ...]
    excess_policy: str = CORRECT
    excess_to_social_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class Participant:
    """A member's weights for one period.

    `producer_wh`: shared energy attributed to the member's plants while a member [Wh];
    `consumer_wh`: the member's pro rata part of shared energy as a consumer [Wh];
    `active_hours`: hours of membership in the period; `custom_weight`: the statute's weight.
    """

    member_id: str
    enterprise: bool
    producer_wh: int = 0
    consumer_wh: int = 0
    active_hours: int = 0
    custom_weight: Decimal = Decimal(0)


@dataclass(frozen=True)
class ComponentPart:
    """How one component gave a member its part: weight / total weight x component amount."""

    basis: str
    side: str
    weight: Fraction
    total_weight: Fraction
    component_eur: Fraction
    exact_eur: Fraction


@dataclass(frozen=True)
class Outcome:
    """The rounded pots and shares [EUR], their exact values and the 55 %/45 % check."""

    amount_eur: Decimal
    pots: dict[str, Decimal]
    shares: dict[str, Decimal]
    pots_exact: dict[str, Fraction]
    shares_exact: dict[str, Fraction]
    parts: dict[str, tuple[ComponentPart, ...]]
    rest_exact_eur: Fraction
    excess_eur: Decimal
    enterprise_ceiling_eur: Decimal
    enterprise_before_eur: Decimal
    enterprise_eur: Decimal
    # A month moves nothing (the rule is yearly, cercalc.true_up): these stay zero and empty,
    # kept so that distributions stored before the change read the same way.
    moved_to_members_eur: Decimal = Decimal(0)
    moved_to_social_eur: Decimal = Decimal(0)
    corrections: dict[str, Decimal] = field(default_factory=dict)


def member_order_key(member_id: str) -> tuple[int, int, str]:
    """Return the key that orders member ids numerically when they are digits ("2" < "10").

    Ids that are not all digits (names in examples) follow, in text order. Ties of the
    largest-remainder rule go to the earlier member in this order.
    """
    if member_id.isdigit():
        return (0, int(member_id), "")
    return (1, 0, member_id)


def largest_remainder_cents(total_cents: int, exact_eur: Sequence[Fraction]) -> list[int]:
    """Round exact parts [EUR] to cents so that they add up to `total_cents`.

    Each part is rounded down to the cent, then the cents still missing go one by one to the
    parts with the largest remainders (ties: the earlier part). The exact parts must add up to
    total_cents / 100 (STYLE.md, Money). Raises ValueError when they do not.
    """
    denominator = math.lcm(*(part.denominator for part in exact_eur))
    return largest_remainder_cents_of_numerators(
        total_cents,
        [part.numerator * (denominator // part.denominator) for part in exact_eur],
        denominator,
    )


def largest_remainder_cents_of_numerators(
    total_cents: int, numerators: Sequence[int], denominator: int
) -> list[int]:
    """largest_remainder_cents for exact parts given as numerators [EUR] over one denominator.

    The parts are numerator / denominator EUR each; integers throughout, so a thousand
    parts round in a few milliseconds. Raises ValueError when they do not add up to
    total_cents / 100.
    """
    scaled = [numerator * 100 for numerator in numerators]
    if sum(scaled) != total_cents * denominator:
        raise ValueError("the exact parts do not add up to the total")
    floors = [value // denominator for value in scaled]
    missing = total_cents - sum(floors)
    remainders = sorted(
        range(len(scaled)), key=lambda index: (-(scaled[index] % denominator), index)
    )
    for index in remainders[:missing]:
        floors[index] += 1
    return floors


def _integer_weights(weights: Sequence[Fraction]) -> tuple[list[int], int]:
    """Return integers in the same proportions as the weights, and their sum.

    The weights are whole numbers (watt-hours, hours) except custom weights (decimals):
    those are scaled by the least common multiple of their denominators.
    """
    scale = math.lcm(*(weight.denominator for weight in weights))
    scaled = [weight.numerator * (scale // weight.denominator) for weight in weights]
    return scaled, sum(scaled)


def split_cents(total_cents: int, weights: Sequence[Fraction | int]) -> list[int]:
    """Split an amount [cents] in proportion to non-negative weights, to the cent exactly.

    Raises ValueError when every weight is zero (there is nobody to give the amount to).
    """
    total_weight = sum((Fraction(w) for w in weights), Fraction(0))
    if total_weight <= 0:
        raise ValueError("all weights are zero")
    exact = [Fraction(total_cents, 100) * Fraction(w) / total_weight for w in weights]
    return largest_remainder_cents(total_cents, exact)


def consumer_shares_wh(*, withdrawn_wh: IntArray, shared_wh: IntArray) -> IntArray:
    """Split each hour's shared energy [Wh] among consumers pro rata of their withdrawal [Wh].

    `withdrawn_wh` is consumers x hours, `shared_wh` one value per hour, never above the
    hour's total withdrawal. Each hour's parts add up to its shared energy: floor of
    shared x withdrawn / total, then the leftover watt-hours by largest remainder (ties: the
    earlier row). Source: REGULATION.md §4.3 and §14, attribution proportional to hourly
    withdrawals (a project assumption [U]). Raises ValueError for shared energy above the
    withdrawals or products too large for int64.
    """
    total = withdrawn_wh.sum(axis=0)
    if np.any(shared_wh > total):
        raise ValueError("shared energy above the hour's withdrawals")
    if withdrawn_wh.size == 0:
        return withdrawn_wh.copy()
    largest = int(withdrawn_wh.max(initial=0)) * int(shared_wh.max(initial=0))
    if largest > _INT64_MAX:
        raise ValueError("energies too large for an exact int64 split")
    product = withdrawn_wh * shared_wh
    divisor = np.maximum(total, 1)
    parts = product // divisor
    remainders = product % divisor
    leftover = shared_wh - parts.sum(axis=0)
    hours = np.flatnonzero(leftover)
    if hours.size:
        # Only the hours with watt-hours left over (none at night) are sorted: in each, the
        # rows with the largest remainders (ties: the earlier row) get one more.
        order = np.argsort(-remainders[:, hours], axis=0, kind="stable")
        takes = np.arange(order.shape[0])[:, None] < leftover[hours][None, :]
        parts[order[takes], np.broadcast_to(hours, order.shape)[takes]] += 1
    return parts


def active_hours_mask(
    *, hour_start_utc_s: IntArray, periods: Sequence[tuple[date, date | None]]
) -> BoolArray:
    """Tell, for each hour, whether it lies in one of the half-open periods of local days.

    A membership valid from day A to day B (exclusive, None for open) covers the hours from
    Europe/Rome midnight starting A to Europe/Rome midnight starting B (STYLE.md, Time).
    """
    mask = np.zeros(hour_start_utc_s.shape, dtype=bool)
    for valid_from, valid_to in periods:
        inside = hour_start_utc_s >= buckets.local_midnight_utc_s(valid_from)
        if valid_to is not None:
            inside &= hour_start_utc_s < buckets.local_midnight_utc_s(valid_to)
        mask |= inside
    return mask


def check_plan(plan: Plan) -> None:
    """Refuse a plan whose settings cannot add up, naming the setting.

    Raises InvalidPlan: a pot both or neither percentage and fixed, negative values, pot
    percentages above 100, component percentages not adding up to 100, an unknown basis or
    a producers' side outside 0-100, an unknown excess policy.
    """
    codes = [pot.code for pot in plan.pots]
    if len(set(codes)) != len(codes):
        raise InvalidPlan("pots", "each pot needs its own code")
    percent_total = Decimal(0)
    for pot in plan.pots:
        if (pot.percent is None) == (pot.fixed_eur is None):
            raise InvalidPlan(f"pots.{pot.code}", "give either a percentage or a fixed amount")
        value = pot.percent if pot.percent is not None else pot.fixed_eur
        if value is not None and value < 0:
            raise InvalidPlan(f"pots.{pot.code}", "must not be negative")
        percent_total += pot.percent or 0
    if percent_total > 100:
        raise InvalidPlan("pots", f"the percentages add up to {percent_total} %, above 100 %")
    if not plan.components:
        raise InvalidPlan("components", "choose at least one way to split the rest")
    component_total = Decimal(0)
    for index, component in enumerate(plan.components):
        if component.basis not in BASES:
            raise InvalidPlan(f"components[{index}].basis", f"unknown basis {component.basis}")
        if component.percent < 0:
            raise InvalidPlan(f"components[{index}].percent", "must not be negative")
        if not 0 <= component.producers_percent <= 100:
            raise InvalidPlan(
                f"components[{index}].producers_percent", "must lie between 0 and 100"
            )
        component_total += component.percent
    if component_total != 100:
        raise InvalidPlan("components", f"the percentages add up to {component_total} %, not 100 %")
    if plan.excess_policy not in (REFUSE, CORRECT):
        raise InvalidPlan("excess_policy", f"unknown policy {plan.excess_policy}")
    if not 0 <= plan.excess_to_social_percent <= 100:
        raise InvalidPlan("excess_to_social_percent", "must lie between 0 and 100")


def distribute(
    *,
    amount_eur: Decimal,
    excess_eur: Decimal | Fraction,
    participants: Sequence[Participant],
    plan: Plan,
) -> Outcome:
    """Split `amount_eur` [EUR, to the cent, not negative] into pots and members' shares.

    `excess_eur` is the period's tariff above the 55 %/45 % thresholds [EUR]
    (REGULATION.md §5), reported with the enterprises' ceiling as an indication: no share is
    cut for it (the rule is checked on the year, cercalc.true_up). Members are ordered by
    member_order_key. Raises InvalidPlan for a plan that does not add up (check_plan), fixed
    pots above the amount, a component with nobody to give to.
    """
    check_plan(plan)
    if amount_eur < 0 or amount_eur != amount_eur.quantize(Decimal("0.01")):
        raise InvalidPlan("amount", "must be a non-negative amount in cents")
    ids = [participant.member_id for participant in participants]
    if len(set(ids)) != len(ids):
        raise InvalidPlan("participants", "member ids must be unique")
    amount = Fraction(amount_eur)
    pots_exact = {
        pot.code: (
            amount * Fraction(pot.percent) / _HUNDRED
            if pot.percent is not None
            else Fraction(pot.fixed_eur or 0)
        )
        for pot in plan.pots
    }
    rest = amount - sum(pots_exact.values(), Fraction(0))
    if rest < 0:
        raise InvalidPlan("pots", f"the pots take {round_eur(amount - rest)} EUR of {amount_eur}")

    ordered = sorted(participants, key=lambda p: member_order_key(p.member_id))
    parts: dict[str, list[ComponentPart]] = {p.member_id: [] for p in ordered}
    # Every exact part is side amount x weight / total weight. The members' shares are
    # added and rounded over one common denominator in plain integers: the same exact
    # values as Fraction sums, without a gcd at every step (a thousand members a month).
    sides: list[tuple[Fraction, list[int], int]] = []
    for index, component in enumerate(plan.components):
        component_eur = rest * Fraction(component.percent) / _HUNDRED
        for side, side_eur, weights in _component_sides(component, component_eur, ordered):
            total_weight = sum(weights, Fraction(0))
            if side_eur == 0:
                continue
            if total_weight == 0:
                raise InvalidPlan(
                    f"components[{index}]",
                    f"no member has a weight for {component.basis.lower()} ({side})",
                )
            int_weights, int_total = _integer_weights(weights)
            sides.append((side_eur, int_weights, int_total))
            for participant, weight, int_weight in zip(ordered, weights, int_weights, strict=True):
                parts[participant.member_id].append(
                    ComponentPart(
                        basis=component.basis,
                        side=side,
                        weight=weight,
                        total_weight=total_weight,
                        component_eur=side_eur,
                        exact_eur=Fraction(
                            side_eur.numerator * int_weight,
                            side_eur.denominator * int_total,
                        ),
                    )
                )
    denominator = math.lcm(
        *(pot.denominator for pot in pots_exact.values()),
        *(side_eur.denominator * total for side_eur, _, total in sides),
    )
    share_numerators = [0] * len(ordered)
    for side_eur, int_weights, int_total in sides:
        factor = side_eur.numerator * (denominator // (side_eur.denominator * int_total))
        share_numerators = [
            numerator + factor * weight
            for numerator, weight in zip(share_numerators, int_weights, strict=True)
        ]
    shares_exact = {
        participant.member_id: Fraction(numerator, denominator)
        for participant, numerator in zip(ordered, share_numerators, strict=True)
    }
    pot_numerators = [
        pot.numerator * (denominator // pot.denominator) for pot in pots_exact.values()
    ]

    total_cents = int(amount_eur * 100)
    cents = largest_remainder_cents_of_numerators(
        total_cents, [*pot_numerators, *share_numerators], denominator
    )
    pot_cents = dict(zip(pots_exact, cents[: len(pots_exact)], strict=True))
    share_cents = dict(zip(shares_exact, cents[len(pots_exact) :], strict=True))
    return _indicative_check(
        amount_eur=amount_eur,
        excess_eur=round_eur(excess_eur),
        ordered=ordered,
        pots_exact=pots_exact,
        shares_exact=shares_exact,
        pot_cents=pot_cents,
        share_cents=share_cents,
        parts={k: tuple(v) for k, v in parts.items()},
        rest=rest,
        social={pot.code for pot in plan.pots if pot.social},
    )


def _component_sides(
    component: Component, component_eur: Fraction, ordered: Sequence[Participant]
) -> list[tuple[str, Fraction, list[Fraction]]]:
    """Return (side, amount [EUR], weight per participant) for each side of a component."""
    if component.basis == CONTRIBUTION:
        weights = [Fraction(p.producer_wh + p.consumer_wh) for p in ordered]
        return [("all", component_eur, weights)]
    if component.basis == EQUAL:
        return [("all", component_eur, [Fraction(p.active_hours) for p in ordered])]
    if component.basis == CUSTOM:
        weights = [Fraction(p.custom_weight) * p.active_hours for p in ordered]
        return [("all", component_eur, weights)]
    producers_eur = component_eur * Fraction(component.producers_percent) / _HUNDRED
    return [
        ("producers", producers_eur, [Fraction(p.producer_wh) for p in ordered]),
        ("consumers", component_eur - producers_eur, [Fraction(p.consumer_wh) for p in ordered]),
    ]


def enterprise_ceiling_cents(
    *, amount_cents: int, excess_cents: int, pot_cents: Mapping[str, int], social: set[str]
) -> int:
    """Return the most enterprises may receive [cents]: amount - excess - non-social pots.

    Source: DM 414/2023 art. 3 c. 2 lett. g (REGULATION.md §5): the excess goes only to
    members that are not enterprises or to social purposes.
    """
    other_pots = sum(cents for code, cents in pot_cents.items() if code not in social)
    return max(0, amount_cents - excess_cents - other_pots)


def _indicative_check(
    *,
    amount_eur: Decimal,
    excess_eur: Decimal,
    ordered: Sequence[Participant],
    pots_exact: dict[str, Fraction],
    shares_exact: dict[str, Fraction],
    pot_cents: dict[str, int],
    share_cents: dict[str, int],
    parts: dict[str, tuple[ComponentPart, ...]],
    rest: Fraction,
    social: set[str],
) -> Outcome:
    """Report the month's 55 %/45 % figures without changing any part.

    GSE checks the rule on the year (REGULATION.md §5 [V]), so a month's excess is an
    indication only: enterprises are never cut and a month is never refused for it. The
    yearly true-up (cercalc.true_up) applies the community's policy to the year's excess.
    """
    ceiling = enterprise_ceiling_cents(
        amount_cents=int(amount_eur * 100),
        excess_cents=int(excess_eur * 100),
        pot_cents=pot_cents,
        social=social,
    )
    enterprise = sum(share_cents[p.member_id] for p in ordered if p.enterprise)
    return Outcome(
        amount_eur=amount_eur,
        pots={code: _eur(cents) for code, cents in pot_cents.items()},
        shares={member_id: _eur(cents) for member_id, cents in share_cents.items()},
        pots_exact=pots_exact,
        shares_exact=shares_exact,
        parts=parts,
        rest_exact_eur=rest,
        excess_eur=excess_eur,
        enterprise_ceiling_eur=_eur(ceiling),
        enterprise_before_eur=_eur(enterprise),
        enterprise_eur=_eur(enterprise),
    )


def _eur(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


__all__ = [
    "BASES",
    "CONTRIBUTION",
    "CORRECT",
    "CUSTOM",
    "EQUAL",
    "PRODUCERS_CONSUMERS",
    "REFUSE",
    "Component",
    "ComponentPart",
    "ExcessCeilingExceeded",
    "InvalidPlan",
    "Outcome",
    "Participant",
    "Plan",
    "Pot",
    "active_hours_mask",
    "check_plan",
    "consumer_shares_wh",
    "distribute",
    "enterprise_ceiling_cents",
    "largest_remainder_cents",
    "largest_remainder_cents_of_numerators",
    "member_order_key",
    "split_cents",
]
