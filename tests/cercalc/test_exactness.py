"""Incentivised and exempt energy are kept exact: sums are taken before rounding (ENGINE_IO.md)."""

from datetime import date
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from cercalc import sharing, tariff
from cercalc.money import sum_of_quotients
from cercalc.params import default_parameters
from cercalc.settle import settle
from tests.cercalc.test_properties import communities

EXEMPT_BEFORE_DM127 = {"public_body", "religious_body", "third_sector"}


def reference_incentives_eur(community, rule="proportional") -> list[Fraction]:
    """Each plant's incentive, hour by hour with Python fractions: the rule as written.

    REGULATION.md §3.3 (proportional share), §4.3 (F, exempt energy split in proportion to
    withdrawals, given first to the plants with a grant, oldest first).
    """
    plants = community["plants"]
    parameters = default_parameters()
    warnings: list[str] = []
    hours = community["hour_start_utc_s"]
    terms = tariff.terms_of_plants(
        plants, parameters=parameters, start_day=date(2024, 6, 1), warnings=warnings
    )
    shared = sharing.shared_energy_by_hour(
        injected_by_hour_wh=community["injected_wh"].sum(axis=0),
        withdrawn_by_hour_wh=community["withdrawn_wh"].sum(axis=0),
    )
    order = sharing.chronological_order(
        [p.entry_into_service_date for p in plants], [p.plant_id for p in plants]
    )
    allocation = sharing.attribute_chronologically(
        energy_by_hour_wh=shared, capacity_wh=community["injected_wh"], order=order
    )
    rates, in_tariff = tariff.tariff_rate_units(
        terms=terms,
        plants=plants,
        configuration_type="CER",
        hour_start_utc_s=hours,
        zonal_price_units=community["zonal_price_units"],
        allocation_wh=allocation,
        parameters=parameters,
        warnings=warnings,
    )
    exempt_rows = [c.category in EXEMPT_BEFORE_DM127 for c in community["consumers"]]
    grant_order = [int(i) for i in order if terms[int(i)].reduction_f > 0]
    money = [Fraction(0)] * len(plants)
    for h in range(hours.size):
        incentivised = [
            Fraction(int(allocation[p, h]) * int(in_tariff[p, h]))
            * Fraction(terms[p].incentivised_power_w, terms[p].power_w)
            for p in range(len(plants))
        ]
        total = sum(
            (incentivised[p] for p in range(len(plants)) if terms[p].tariff == tariff.DM414),
            Fraction(0),
        )
        withdrawn = int(community["withdrawn_wh"][:, h].sum())
        exempt_withdrawn = sum(
            int(community["withdrawn_wh"][c, h]) for c, flag in enumerate(exempt_rows) if flag
        )
        if rule == "exempt_first":
            remaining = min(total, Fraction(exempt_withdrawn))
        else:
            remaining = total * exempt_withdrawn / withdrawn if withdrawn else Fraction(0)
        exempt = [Fraction(0)] * len(plants)
        for p in grant_order:
            exempt[p] = min(incentivised[p], remaining)
            remaining -= exempt[p]
        for p in range(len(plants)):
            rate = int(rates[p, h])
            keep = 1 - terms[p].reduction_f
            money[p] += ((incentivised[p] - exempt[p]) * keep + exempt[p]) * rate
    return [amount / 10**10 for amount in money]


@settings(max_examples=120, deadline=None)
@given(communities(), st.sampled_from(["proportional", "exempt_first"]))
def test_each_plants_incentive_equals_the_hour_by_hour_fraction_computation(community, rule):
    parameters = default_parameters().with_overrides({"f_exempt_split": rule})

    result = settle(**community, parameters=parameters)

    expected = reference_incentives_eur(community, rule)
    # Each hour's exempt money is taken to 1e-20 EUR (money.sum_of_quotients).
    tolerance = Fraction(community["hour_start_utc_s"].size, 10**20)
    for plant, exact in zip(result.plants, expected, strict=True):
        assert abs(plant.incentive_exact_eur - exact) <= tolerance


@settings(max_examples=80, deadline=None)
@given(communities())
def test_a_plants_incentivised_energy_is_its_exact_share_rounded_once(community):
    result = settle(**community)

    for plant, figures, row in zip(
        community["plants"], result.plants, result.allocation_wh, strict=True
    ):
        paid = figures.incentivised_exact_wh
        assert 0 <= paid <= int(row.sum())
        assert abs(figures.incentivised_wh - paid) <= Fraction(1, 2)
        if plant.superbonus_kw == 0:
            assert paid.denominator == 1


@given(
    st.lists(
        st.tuples(st.integers(-(10**12), 10**12), st.integers(1, 10**9)), min_size=0, max_size=60
    )
)
def test_each_quotient_is_taken_to_1e_10_of_its_unit_and_summed_exactly(pairs):
    expected = sum((Fraction(n, d) for n, d in pairs), Fraction(0))

    total = sum_of_quotients([n for n, _ in pairs], [d for _, d in pairs])

    assert abs(total - expected) <= Fraction(len(pairs), 2 * 10**10)
    assert total.denominator <= 10**10


def test_a_quotient_half_way_is_rounded_away_from_zero():
    assert sum_of_quotients([1, -1], [2 * 10**10, 2 * 10**10]) == 0
    assert sum_of_quotients([1], [2 * 10**10]) == Fraction(1, 10**10)
