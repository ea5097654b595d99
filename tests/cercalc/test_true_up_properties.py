"""Invariants of the yearly 55 %/45 % true-up, for any year, policy and members."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from cercalc.distribution import CORRECT, enterprise_ceiling_cents
from cercalc.true_up import NowhereToMove, Received, true_up_year


@st.composite
def years(draw):
    """A year's distributions: members' receipts, pots, and the amount they add up to."""
    count = draw(st.integers(1, 8))
    members = [
        Received(
            member_id=str(draw(st.integers(1, 10_000)) * 10 + index),
            enterprise=draw(st.booleans()),
            received_eur=Decimal(draw(st.integers(0, 5_000_000))).scaleb(-2),
        )
        for index in range(count)
    ]
    pots = {
        "social": Decimal(draw(st.integers(0, 100_000))).scaleb(-2),
        "running": Decimal(draw(st.integers(0, 100_000))).scaleb(-2),
    }
    amount = sum((m.received_eur for m in members), Decimal(0)) + sum(pots.values())
    excess = Decimal(draw(st.integers(0, int(amount * 100)))).scaleb(-2)
    return {
        "amount_eur": amount,
        "excess_eur": excess,
        "pots": pots,
        "social": {"social"},
        "members": members,
        "policy": CORRECT,
        "to_social_percent": Decimal(draw(st.integers(0, 100))),
        "has_social_pot": draw(st.booleans()),
    }


def _true_up(year):
    try:
        return true_up_year(**year)
    except NowhereToMove:
        return None


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


@settings(max_examples=400, deadline=None)
@given(years())
def test_the_true_up_moves_exactly_what_enterprises_received_above_the_ceiling(year):
    result = _true_up(year)

    if result is not None:
        ceiling = enterprise_ceiling_cents(
            amount_cents=_cents(year["amount_eur"]),
            excess_cents=_cents(year["excess_eur"]),
            pot_cents={k: _cents(v) for k, v in year["pots"].items()},
            social={"social"},
        )
        received = sum(_cents(m.received_eur) for m in year["members"] if m.enterprise)
        assert _cents(result.moved_eur) == max(0, received - ceiling)
        # What moves is part of the year's excess, never more than it.
        assert result.moved_eur <= year["excess_eur"]
        if received <= ceiling:
            assert result.changes == {}


@settings(max_examples=400, deadline=None)
@given(years())
def test_the_parts_add_up_and_gains_equal_losses(year):
    result = _true_up(year)

    if result is not None:
        enterprises = {m.member_id for m in year["members"] if m.enterprise}
        losses = -sum(v for k, v in result.changes.items() if k in enterprises)
        gains = sum(v for k, v in result.changes.items() if k not in enterprises)
        assert losses == result.moved_eur
        assert gains == result.moved_to_members_eur
        assert result.moved_to_social_eur + result.moved_to_members_eur == result.moved_eur
        assert all(v < 0 for k, v in result.changes.items() if k in enterprises)
        assert all(v > 0 for k, v in result.changes.items() if k not in enterprises)
        if not year["has_social_pot"]:
            assert result.moved_to_social_eur == 0


@settings(max_examples=400, deadline=None)
@given(years())
def test_no_enterprise_ends_the_year_above_its_part_of_the_ceiling(year):
    result = _true_up(year)

    if result is not None:
        enterprises = [m for m in year["members"] if m.enterprise]
        after = {
            m.member_id: m.received_eur + result.changes.get(m.member_id, Decimal(0))
            for m in enterprises
        }
        total = sum(after.values(), Decimal(0))
        received = sum((m.received_eur for m in enterprises), Decimal(0))
        assert total <= result.ceiling_eur
        if result.moved_eur:
            assert total == result.ceiling_eur
            for m in enterprises:
                # Its part of the ceiling, in proportion to what it received, to the cent.
                share = Fraction(_cents(result.ceiling_eur)) * _cents(m.received_eur)
                share /= _cents(received)
                assert _cents(after[m.member_id]) < share + 1
                assert 0 <= after[m.member_id] <= m.received_eur
