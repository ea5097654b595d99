"""Properties of the distribution that hold for any amount, plan and members."""

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cercalc.distribution import (
    BASES,
    CORRECT,
    Component,
    InvalidPlan,
    Participant,
    Plan,
    Pot,
    consumer_shares_wh,
    distribute,
    split_cents,
)

cents = st.integers(0, 10_000_000)


@st.composite
def participants(draw):
    count = draw(st.integers(1, 8))
    return [
        Participant(
            member_id=f"M{index}",
            enterprise=draw(st.booleans()),
            producer_wh=draw(st.integers(0, 10**7)),
            consumer_wh=draw(st.integers(0, 10**7)),
            active_hours=draw(st.integers(1, 745)),
            custom_weight=Decimal(draw(st.integers(0, 5))),
        )
        for index in range(count)
    ]


@st.composite
def plans(draw):
    pots = []
    for index in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            pots.append(Pot(f"P{index}", percent=Decimal(draw(st.integers(0, 30)))))
        else:
            pots.append(Pot(f"P{index}", fixed_eur=Decimal(draw(st.integers(0, 500)))))
    pots.append(Pot("SOCIAL", percent=Decimal(draw(st.integers(0, 10))), social=True))
    bases = draw(st.lists(st.sampled_from(BASES), min_size=1, max_size=3))
    split = draw(st.integers(0, 100))
    percents = [Decimal(100)] if len(bases) == 1 else [Decimal(split), Decimal(100 - split)]
    bases = bases[: len(percents)]
    components = tuple(
        Component(basis, percent, Decimal(draw(st.integers(0, 100))))
        for basis, percent in zip(bases, percents, strict=True)
    )
    return Plan(
        pots=tuple(pots),
        components=components,
        excess_policy=CORRECT,
        excess_to_social_percent=Decimal(draw(st.integers(0, 100))),
    )


def _distribute(amount_cents, excess_cents, members, plan):
    try:
        return distribute(
            amount_eur=Decimal(amount_cents).scaleb(-2),
            excess_eur=Decimal(excess_cents).scaleb(-2),
            participants=members,
            plan=plan,
        )
    except InvalidPlan:
        return None


@settings(max_examples=300, deadline=None)
@given(cents, cents, participants(), plans())
def test_pots_and_shares_always_add_up_to_the_amount_to_the_cent(amount, excess, members, plan):
    outcome = _distribute(amount, min(excess, amount), members, plan)

    if outcome is not None:
        total = sum(outcome.pots.values()) + sum(outcome.shares.values())
        assert total == Decimal(amount).scaleb(-2)
        assert all(value >= 0 for value in [*outcome.pots.values(), *outcome.shares.values()])


@settings(max_examples=300, deadline=None)
@given(cents, cents, participants(), plans())
def test_a_month_never_cuts_enterprises_for_its_indicative_excess(amount, excess, members, plan):
    outcome = _distribute(amount, min(excess, amount), members, plan)

    if outcome is not None:
        enterprises = {m.member_id for m in members if m.enterprise}
        total = sum(value for key, value in outcome.shares.items() if key in enterprises)
        assert outcome.enterprise_eur == outcome.enterprise_before_eur == total
        assert outcome.corrections == {}
        assert outcome.moved_to_members_eur == outcome.moved_to_social_eur == 0


@settings(max_examples=200, deadline=None)
@given(cents, st.lists(st.integers(0, 1000), min_size=1, max_size=10))
def test_a_split_adds_up_and_no_part_is_a_cent_away_from_its_exact_value(total, weights):
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]

    parts = split_cents(total, weights)

    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part * sum(weights) - total * weight) < sum(weights)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_hourly_consumer_parts_add_up_to_each_hour_and_never_exceed_a_withdrawal(data):
    rows = data.draw(st.integers(1, 6))
    hours = data.draw(st.integers(1, 6))
    withdrawn = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(0, 10**6), min_size=hours, max_size=hours),
                min_size=rows,
                max_size=rows,
            )
        ),
        dtype=np.int64,
    )
    totals = withdrawn.sum(axis=0)
    shared = np.array([data.draw(st.integers(0, int(t))) for t in totals], dtype=np.int64)

    parts = consumer_shares_wh(withdrawn_wh=withdrawn, shared_wh=shared)

    assert parts.sum(axis=0).tolist() == shared.tolist()
    assert (parts <= withdrawn).all()
    assert (parts >= 0).all()


def test_a_member_absent_all_month_gets_nothing_from_any_basis():
    members = [
        Participant(
            "IN", False, producer_wh=5, consumer_wh=5, active_hours=10, custom_weight=Decimal(1)
        ),
        Participant("OUT", False),
    ]
    for basis in BASES:
        plan = Plan(pots=(), components=(Component(basis, Decimal(100), Decimal(50)),))

        outcome = distribute(
            amount_eur=Decimal("9.99"), excess_eur=0, participants=members, plan=plan
        )

        assert outcome.shares["OUT"] == Decimal("0.00")
