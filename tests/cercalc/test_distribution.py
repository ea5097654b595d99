"""The split of an amount into pots and members' shares (docs/algorithms/distribution.md)."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from cercalc import buckets, periods
from cercalc.distribution import (
    CONTRIBUTION,
    CORRECT,
    CUSTOM,
    EQUAL,
    PRODUCERS_CONSUMERS,
    REFUSE,
    Component,
    InvalidPlan,
    Participant,
    Plan,
    Pot,
    active_hours_mask,
    consumer_shares_wh,
    distribute,
    largest_remainder_cents,
    member_order_key,
    split_cents,
)

POTS = (
    Pot("RUNNING", percent=Decimal("5")),
    Pot("SOCIAL", percent=Decimal("10"), social=True),
    Pot("REFERENTE", fixed_eur=Decimal("30.00")),
)
WORKED_PLAN = Plan(
    pots=POTS,
    components=(Component(CONTRIBUTION, Decimal("60")), Component(EQUAL, Decimal("40"))),
    excess_policy=CORRECT,
    excess_to_social_percent=Decimal("50"),
)
WORKED_MEMBERS = (
    Participant("A", enterprise=False, consumer_wh=300_000, active_hours=720),
    Participant("B", enterprise=True, consumer_wh=500_000, active_hours=720),
    Participant("C", enterprise=False, producer_wh=700_000, active_hours=720),
    Participant("D", enterprise=True, consumer_wh=100_000, active_hours=360),
)


def test_the_worked_table_gives_the_pots_and_shares_of_the_documentation():
    outcome = distribute(
        amount_eur=Decimal("1000.00"),
        excess_eur=Decimal("120.00"),
        participants=WORKED_MEMBERS,
        plan=WORKED_PLAN,
    )

    assert outcome.pots == {
        "RUNNING": Decimal("50.00"),
        "SOCIAL": Decimal("100.00"),
        "REFERENTE": Decimal("30.00"),
    }
    assert outcome.rest_exact_eur == Fraction("820")
    assert outcome.shares_exact["A"] == Fraction("92.25") + Fraction(328 * 2, 7)
    assert outcome.shares == {
        "A": Decimal("185.97"),
        "B": Decimal("247.46"),
        "C": Decimal("308.96"),
        "D": Decimal("77.61"),
    }
    assert outcome.enterprise_ceiling_eur == Decimal("800.00")
    assert outcome.corrections == {}


def test_a_month_above_the_ceiling_is_neither_cut_nor_refused_whatever_the_policy():
    for policy in (CORRECT, REFUSE):
        plan = Plan(pots=POTS, components=WORKED_PLAN.components, excess_policy=policy)

        outcome = distribute(
            amount_eur=Decimal("1000.00"),
            excess_eur=Decimal("600.00"),
            participants=WORKED_MEMBERS,
            plan=plan,
        )

        # The ceiling is reported (1,000.00 - 600.00 - 80.00) but the shares are those of
        # the worked table: the rule is applied to the year (cercalc.true_up).
        assert outcome.enterprise_ceiling_eur == Decimal("320.00")
        assert outcome.enterprise_eur == Decimal("325.07")
        assert outcome.shares["B"] == Decimal("247.46")
        assert outcome.pots["SOCIAL"] == Decimal("100.00")
        assert outcome.corrections == {}


def test_a_rounding_tie_goes_to_member_2_before_member_10():
    plan = Plan(pots=(), components=(Component(EQUAL, Decimal(100)),))
    members = [
        Participant("10", False, active_hours=744),
        Participant("2", False, active_hours=744),
    ]

    outcome = distribute(amount_eur=Decimal("0.01"), excess_eur=0, participants=members, plan=plan)

    # As text "10" sorts before "2"; as numbers 2 comes first and takes the spare cent.
    assert outcome.shares == {"2": Decimal("0.01"), "10": Decimal("0.00")}
    assert list(outcome.shares) == ["2", "10"]


def test_member_ids_order_by_number_when_they_are_digits():
    ids = ["10", "2", "B", "1", "A"]

    assert sorted(ids, key=member_order_key) == ["1", "2", "10", "A", "B"]


def test_pots_above_one_hundred_percent_are_refused_naming_the_pots():
    plan = Plan(
        pots=(Pot("A", percent=Decimal("60")), Pot("B", percent=Decimal("41"))),
        components=(Component(EQUAL, Decimal("100")),),
    )

    with pytest.raises(InvalidPlan) as refused:
        distribute(amount_eur=Decimal("10.00"), excess_eur=0, participants=[], plan=plan)

    assert refused.value.field == "pots"
    assert "101" in refused.value.problem


def test_fixed_pots_above_the_amount_are_refused():
    plan = Plan(pots=(Pot("FEE", fixed_eur=Decimal("50")),), components=(Component(EQUAL, 100),))

    with pytest.raises(InvalidPlan) as refused:
        distribute(amount_eur=Decimal("10.00"), excess_eur=0, participants=[], plan=plan)

    assert refused.value.field == "pots"


def test_component_percentages_that_do_not_add_up_are_refused():
    plan = Plan(
        pots=(),
        components=(Component(EQUAL, Decimal("50")), Component(CUSTOM, Decimal("40"))),
    )

    with pytest.raises(InvalidPlan) as refused:
        distribute(amount_eur=Decimal("10.00"), excess_eur=0, participants=[], plan=plan)

    assert refused.value.field == "components"
    assert "90" in refused.value.problem


def test_a_pot_with_both_a_percentage_and_a_fixed_amount_is_refused():
    plan = Plan(
        pots=(Pot("X", percent=Decimal(1), fixed_eur=Decimal(1)),),
        components=(Component(EQUAL, Decimal(100)),),
    )

    with pytest.raises(InvalidPlan) as refused:
        distribute(amount_eur=Decimal("1.00"), excess_eur=0, participants=[], plan=plan)

    assert refused.value.field == "pots.X"


def test_producers_and_consumers_split_the_rest_by_percentage_and_by_energy_within_sides():
    plan = Plan(
        pots=(),
        components=(Component(PRODUCERS_CONSUMERS, Decimal(100), Decimal(30)),),
    )
    members = [
        Participant("P1", False, producer_wh=100),
        Participant("P2", False, producer_wh=300),
        Participant("C1", False, consumer_wh=50),
        Participant("C2", False, consumer_wh=50),
    ]

    outcome = distribute(
        amount_eur=Decimal("100.00"), excess_eur=0, participants=members, plan=plan
    )

    assert outcome.shares == {
        "C1": Decimal("35.00"),
        "C2": Decimal("35.00"),
        "P1": Decimal("7.50"),
        "P2": Decimal("22.50"),
    }


def test_custom_weights_count_only_the_hours_of_membership():
    plan = Plan(pots=(), components=(Component(CUSTOM, Decimal(100)),))
    members = [
        Participant("X", False, active_hours=744, custom_weight=Decimal("2")),
        Participant("Y", False, active_hours=372, custom_weight=Decimal("2")),
    ]

    outcome = distribute(amount_eur=Decimal("30.00"), excess_eur=0, participants=members, plan=plan)

    assert outcome.shares == {"X": Decimal("20.00"), "Y": Decimal("10.00")}


def test_a_component_with_nobody_to_give_to_is_refused():
    plan = Plan(pots=(), components=(Component(CONTRIBUTION, Decimal(100)),))

    with pytest.raises(InvalidPlan) as refused:
        distribute(
            amount_eur=Decimal("5.00"),
            excess_eur=0,
            participants=[Participant("X", False, active_hours=10)],
            plan=plan,
        )

    assert refused.value.field == "components[0]"


def test_three_equal_thirds_of_a_euro_hand_the_spare_cent_to_the_first():
    assert split_cents(100, [1, 1, 1]) == [34, 33, 33]


def test_largest_remainder_refuses_parts_that_do_not_add_up():
    with pytest.raises(ValueError, match="add up"):
        largest_remainder_cents(100, [Fraction(1, 3)])


def test_each_hour_shared_energy_splits_pro_rata_of_withdrawal_and_adds_up():
    withdrawn = np.array([[1, 0, 5], [1, 3, 5], [1, 1, 0]], dtype=np.int64)
    shared = np.array([2, 4, 7], dtype=np.int64)

    parts = consumer_shares_wh(withdrawn_wh=withdrawn, shared_wh=shared)

    assert parts.tolist() == [[1, 0, 4], [1, 3, 3], [0, 1, 0]]
    assert parts.sum(axis=0).tolist() == shared.tolist()


def test_shared_energy_above_withdrawals_is_refused():
    with pytest.raises(ValueError, match="above"):
        consumer_shares_wh(
            withdrawn_wh=np.array([[1]], dtype=np.int64), shared_wh=np.array([2], dtype=np.int64)
        )


def test_a_member_who_joins_on_the_fifteenth_is_active_from_local_midnight_of_that_day():
    hours = periods.month(2025, 3).hour_starts_s()

    mask = active_hours_mask(hour_start_utc_s=hours, periods=[(date(2025, 3, 15), None)])

    assert hours.size == 743
    assert int(mask.sum()) == 743 - 14 * 24
    assert buckets.format_utc(int(hours[mask][0])) == "2025-03-14T23:00:00Z"


def test_a_membership_ending_in_october_counts_the_repeated_hour():
    hours = periods.month(2025, 10).hour_starts_s()

    mask = active_hours_mask(
        hour_start_utc_s=hours, periods=[(date(2025, 10, 26), date(2025, 10, 27))]
    )

    assert hours.size == 745
    assert int(mask.sum()) == 25
