"""The yearly 55 %/45 % true-up: what enterprises received above the ceiling moves elsewhere.

In words: over a settlement year the enterprises may receive at most
ceiling = amounts distributed - the year's excess - the pots that are not social
(DM 414/2023 art. 3 c. 2 lett. g; GSE FAQ: the ratio is checked yearly; REGULATION.md §5
[V]; cercalc.distribution.enterprise_ceiling_cents). When they received more, the enterprises
keep the ceiling split in proportion to what each received (largest remainder to the cent), so
each loses its part of the shortfall; the shortfall goes to the social pot (the statute's
percentage) and the rest to the members that are not enterprises, in proportion to what each
received over the year. The parts always add up: the enterprises' losses equal the social
pot's and the members' gains. When the policy refuses, nothing is moved and the figures are
named in the error.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from cercalc.distribution import (
    CORRECT,
    REFUSE,
    ExcessCeilingExceeded,
    InvalidPlan,
    enterprise_ceiling_cents,
    member_order_key,
    split_cents,
)
from cercalc.money import round_eur

_HUNDRED = Fraction(100)


class NowhereToMove(ValueError):
    """Enterprises are above the ceiling but there is no social pot and no other member."""


@dataclass(frozen=True)
class Received:
    """What a member received over the year from the year's distributions [EUR]."""

    member_id: str
    enterprise: bool
    received_eur: Decimal


@dataclass(frozen=True)
class YearTrueUp:
    """The year's figures and the signed change of each member [EUR].

    `changes` maps member ids to what they lose (negative, enterprises) or gain (positive);
    members whose change is zero are left out.
    """

    amount_eur: Decimal
    excess_eur: Decimal
    ceiling_eur: Decimal
    enterprise_eur: Decimal
    moved_eur: Decimal
    moved_to_social_eur: Decimal
    moved_to_members_eur: Decimal
    changes: dict[str, Decimal]


def true_up_year(
    *,
    amount_eur: Decimal,
    excess_eur: Decimal | Fraction,
    pots: Mapping[str, Decimal],
    social: Collection[str],
    members: Sequence[Received],
    policy: str,
    to_social_percent: Decimal,
    has_social_pot: bool,
) -> YearTrueUp:
    """Return what moves from enterprises to the social pot and other members over a year.

    Parameters
    ----------
    amount_eur : Decimal
        The amounts distributed over the year [EUR, to the cent].
    excess_eur : Decimal or Fraction
        The year's excess by the engine over the whole year [EUR] (REGULATION.md §5 [C]),
        rounded half up to the cent here.
    pots, social : mapping and collection
        The year's pots [EUR] by key and the keys of those for social purposes.
    members : sequence of Received
        Each member's year from the distributions (not from earlier true-ups).
    policy : str
        CORRECT moves the shortfall; REFUSE moves nothing and raises when there is one.
    to_social_percent : Decimal
        The share of the shortfall that goes to the statute's social pot [%].
    has_social_pot : bool
        Whether the statute names a social pot to receive it.

    Raises ExcessCeilingExceeded (REFUSE and enterprises above the ceiling), NowhereToMove
    (no social pot and no member that is not an enterprise), InvalidPlan (unknown policy,
    percentage outside 0-100, repeated member ids).
    """
    if policy not in (REFUSE, CORRECT):
        raise InvalidPlan("excess_policy", f"unknown policy {policy}")
    if not 0 <= to_social_percent <= 100:
        raise InvalidPlan("excess_to_social_percent", "must lie between 0 and 100")
    ids = [m.member_id for m in members]
    if len(set(ids)) != len(ids):
        raise InvalidPlan("members", "member ids must be unique")
    excess = round_eur(excess_eur)
    ordered = sorted(members, key=lambda m: member_order_key(m.member_id))
    received = {m.member_id: _cents(m.received_eur) for m in ordered}
    enterprises = [m.member_id for m in ordered if m.enterprise]
    others = [m.member_id for m in ordered if not m.enterprise]
    ceiling = enterprise_ceiling_cents(
        amount_cents=_cents(amount_eur),
        excess_cents=_cents(excess),
        pot_cents={key: _cents(value) for key, value in pots.items()},
        social=set(social),
    )
    before = sum(received[m] for m in enterprises)
    shortfall = max(0, before - ceiling)
    changes: dict[str, int] = {}
    moved_social = moved_members = 0
    if shortfall:
        if policy == REFUSE:
            raise ExcessCeilingExceeded(
                enterprise_eur=_eur(before), ceiling_eur=_eur(ceiling), excess_eur=excess
            )
        # The enterprises keep the ceiling in proportion to what each received: the
        # shortfall is then taken in the same proportion and each keeps at most its part.
        kept = split_cents(ceiling, [received[m] for m in enterprises]) if ceiling else []
        for member_id, keep in zip(enterprises, kept or [0] * len(enterprises), strict=True):
            if keep != received[member_id]:
                changes[member_id] = keep - received[member_id]
        receiving = [m for m in others if received[m] > 0] or others
        percent = Fraction(to_social_percent) if has_social_pot else Fraction(0)
        if not receiving:
            if not has_social_pot:
                raise NowhereToMove(
                    "enterprises received more than the ceiling, but the statute names no "
                    "social pot and no member that is not an enterprise"
                )
            percent = _HUNDRED
        moved_social, moved_members = split_cents(shortfall, [percent, _HUNDRED - percent])
        if moved_members:
            weights = [received[m] for m in receiving]
            gains = split_cents(moved_members, weights if any(weights) else [1] * len(weights))
            for member_id, gain in zip(receiving, gains, strict=True):
                if gain:
                    changes[member_id] = gain
    return YearTrueUp(
        amount_eur=amount_eur,
        excess_eur=excess,
        ceiling_eur=_eur(ceiling),
        enterprise_eur=_eur(before),
        moved_eur=_eur(shortfall),
        moved_to_social_eur=_eur(moved_social),
        moved_to_members_eur=_eur(moved_members),
        changes={member_id: _eur(cents) for member_id, cents in changes.items()},
    )


def _cents(amount_eur: Decimal) -> int:
    # Every amount here is whole cents (stored amounts, the excess rounded above).
    return int(amount_eur * 100)


def _eur(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


__all__ = ["NowhereToMove", "Received", "YearTrueUp", "true_up_year"]
