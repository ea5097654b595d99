"""The yearly 55 %/45 % true-up (docs/algorithms/excess.md, "The yearly true-up")."""

from decimal import Decimal
from fractions import Fraction

import pytest

from cercalc.distribution import CORRECT, REFUSE, ExcessCeilingExceeded
from cercalc.excess import excess_eur
from cercalc.true_up import NowhereToMove, Received, true_up_year

# The worked year: one plant with the tariff only (threshold 55 %), two enterprises (ids 1
# and 3) and three households (ids 2, 10 and 11).
WORKED_MEMBERS = (
    Received("1", True, Decimal("518.00")),
    Received("3", True, Decimal("420.00")),
    Received("2", False, Decimal("4.00")),
    Received("10", False, Decimal("4.00")),
    Received("11", False, Decimal("4.00")),
)
WORKED_POTS = {"social": Decimal("20.00"), "running": Decimal("30.00")}


def _worked(policy=CORRECT, **overrides):
    fields = {
        "amount_eur": Decimal("1000.00"),
        "excess_eur": Decimal("48.00"),
        "pots": WORKED_POTS,
        "social": {"social"},
        "members": WORKED_MEMBERS,
        "policy": policy,
        "to_social_percent": Decimal(30),
        "has_social_pot": True,
    }
    fields.update(overrides)
    return true_up_year(**fields)


def test_the_worked_year_has_monthly_excesses_far_above_the_yearly_one():
    january = excess_eur(
        incentivised_wh=900_000,
        injected_wh=1_000_000,
        threshold=Decimal("0.55"),
        incentive_eur=Fraction(360),
    )
    july = excess_eur(
        incentivised_wh=1_500_000,
        injected_wh=3_000_000,
        threshold=Decimal("0.55"),
        incentive_eur=Fraction(600),
    )
    year = excess_eur(
        incentivised_wh=2_400_000,
        injected_wh=4_000_000,
        threshold=Decimal("0.55"),
        incentive_eur=Fraction(960),
    )

    assert (january, july) == (Fraction(126), Fraction(0))
    assert year == Fraction(48)


def test_the_worked_year_moves_the_enterprises_excess_to_the_social_pot_and_households():
    result = _worked()

    assert result.ceiling_eur == Decimal("922.00")
    assert result.enterprise_eur == Decimal("938.00")
    assert result.moved_eur == Decimal("16.00")
    assert result.moved_to_social_eur == Decimal("4.80")
    assert result.moved_to_members_eur == Decimal("11.20")
    assert result.changes == {
        "1": Decimal("-8.84"),
        "3": Decimal("-7.16"),
        "2": Decimal("3.74"),
        "10": Decimal("3.73"),
        "11": Decimal("3.73"),
    }


def test_enterprises_under_the_ceiling_lose_nothing():
    result = _worked(excess_eur=Decimal("12.00"))

    assert result.ceiling_eur == Decimal("958.00")
    assert result.moved_eur == Decimal("0.00")
    assert result.changes == {}


def test_a_refusing_policy_names_the_enterprise_total_the_ceiling_and_the_excess():
    with pytest.raises(ExcessCeilingExceeded) as refused:
        _worked(policy=REFUSE)

    assert refused.value.enterprise_eur == Decimal("938.00")
    assert refused.value.ceiling_eur == Decimal("922.00")
    assert refused.value.excess_eur == Decimal("48.00")


def test_a_refusing_policy_records_a_year_under_the_ceiling():
    result = _worked(policy=REFUSE, excess_eur=Decimal("0.00"))

    assert result.moved_eur == Decimal("0.00")


def test_without_a_social_pot_everything_goes_to_households():
    result = _worked(has_social_pot=False)

    assert result.moved_to_social_eur == Decimal("0.00")
    assert result.moved_to_members_eur == Decimal("16.00")
    assert result.changes["2"] == Decimal("5.34")


def test_only_enterprises_and_no_social_pot_leave_nowhere_to_move_the_excess():
    with pytest.raises(NowhereToMove):
        _worked(members=WORKED_MEMBERS[:2], has_social_pot=False)


def test_only_enterprises_send_the_whole_shortfall_to_the_social_pot():
    result = _worked(members=WORKED_MEMBERS[:2])

    assert result.moved_to_social_eur == result.moved_eur
    assert set(result.changes) == {"1", "3"}
