"""Properties of the settlement that hold for any community and any hours."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cercalc import buckets
from cercalc.params import CONSUMER_CATEGORIES
from cercalc.settle import Configuration, Consumer, Plant, SettlementResult, settle

FIRST_HOUR_S = buckets.parse_instant_utc_s("2024-06-01T00:00:00Z")


@st.composite
def communities(draw):
    n_plants = draw(st.integers(1, 5))
    n_consumers = draw(st.integers(1, 5))
    n_hours = draw(st.integers(2, 12))
    energy = st.integers(0, 50_000)
    plants = [
        Plant(
            plant_id=f"P{index}",
            source=draw(st.sampled_from(["PV", "WIND"])),
            power_kw=Decimal(draw(st.sampled_from(["3", "45", "200", "600.5", "1200"]))),
            entry_into_service_date=date(2024, 1, 24) + timedelta(days=draw(st.integers(0, 3))),
            region=draw(st.sampled_from(["Toscana", "Lombardia", "Sicilia"])),
            capital_grant_pct=Decimal(draw(st.sampled_from(["0", "0", "30"]))),
            superbonus_kw=Decimal(draw(st.sampled_from(["0", "0", "1"]))),
        )
        for index in range(n_plants)
    ]
    consumers = [
        Consumer(f"C{index}", draw(st.sampled_from(CONSUMER_CATEGORIES)))
        for index in range(n_consumers)
    ]
    return {
        "configuration": Configuration("CER", "Toscana"),
        "plants": plants,
        "consumers": consumers,
        "hour_start_utc_s": FIRST_HOUR_S + 3600 * np.arange(n_hours, dtype=np.int64),
        "injected_wh": np.array(
            draw(
                st.lists(
                    st.lists(energy, min_size=n_hours, max_size=n_hours),
                    min_size=n_plants,
                    max_size=n_plants,
                )
            ),
            dtype=np.int64,
        ).reshape(n_plants, n_hours),
        "withdrawn_wh": np.array(
            draw(
                st.lists(
                    st.lists(energy, min_size=n_hours, max_size=n_hours),
                    min_size=n_consumers,
                    max_size=n_consumers,
                )
            ),
            dtype=np.int64,
        ).reshape(n_consumers, n_hours),
        "zonal_price_units": 100
        * np.array(
            draw(st.lists(st.integers(-5_000, 30_000), min_size=n_hours, max_size=n_hours)),
            dtype=np.int64,
        ),
    }


def totals(result: SettlementResult) -> tuple[int, ...]:
    return (
        result.injected_wh,
        result.withdrawn_wh,
        result.shared_total_wh,
        *[plant.shared_wh for plant in result.plants],
        *[plant.injected_wh for plant in result.plants],
    )


@settings(max_examples=150, deadline=None)
@given(communities())
def test_shared_energy_never_exceeds_either_side_in_any_hour(community):
    result = settle(**community)

    injected = community["injected_wh"].sum(axis=0)
    withdrawn = community["withdrawn_wh"].sum(axis=0)
    assert np.all(result.shared_wh <= np.minimum(injected, withdrawn))


@settings(max_examples=150, deadline=None)
@given(communities())
def test_allocations_add_up_to_the_hours_shared_energy(community):
    result = settle(**community)

    assert result.allocation_wh.sum(axis=0).tolist() == result.shared_wh.tolist()


@settings(max_examples=150, deadline=None)
@given(communities())
def test_no_plant_gets_more_than_it_injected(community):
    result = settle(**community)

    assert np.all(result.allocation_wh >= 0)
    assert np.all(result.allocation_wh <= community["injected_wh"])
    assert np.all(result.incentivised_wh <= result.allocation_wh)


@settings(max_examples=100, deadline=None)
@given(communities(), st.data())
def test_settling_two_halves_gives_the_energy_totals_of_the_whole(community, data):
    n_hours = community["hour_start_utc_s"].size
    cut = data.draw(st.integers(1, n_hours - 1))

    def part(columns: slice) -> SettlementResult:
        return settle(
            **{
                **community,
                "hour_start_utc_s": community["hour_start_utc_s"][columns],
                "injected_wh": community["injected_wh"][:, columns],
                "withdrawn_wh": community["withdrawn_wh"][:, columns],
                "zonal_price_units": community["zonal_price_units"][columns],
            }
        )

    whole = totals(settle(**community))
    first, second = totals(part(slice(0, cut))), totals(part(slice(cut, None)))

    assert whole == tuple(a + b for a, b in zip(first, second, strict=True))


@settings(max_examples=100, deadline=None)
@given(communities(), st.randoms(use_true_random=False))
def test_permuting_the_order_of_points_changes_nothing(community, random):
    plant_order = list(range(len(community["plants"])))
    consumer_order = list(range(len(community["consumers"])))
    random.shuffle(plant_order)
    random.shuffle(consumer_order)
    permuted = {
        **community,
        "plants": [community["plants"][i] for i in plant_order],
        "consumers": [community["consumers"][i] for i in consumer_order],
        "injected_wh": community["injected_wh"][plant_order],
        "withdrawn_wh": community["withdrawn_wh"][consumer_order],
    }

    original, shuffled = settle(**community), settle(**permuted)

    assert shuffled.allocation_wh.tolist() == original.allocation_wh[plant_order].tolist()
    assert shuffled.shared_wh.tolist() == original.shared_wh.tolist()
    assert shuffled.incentive_exact_eur == original.incentive_exact_eur
    assert shuffled.valorisation_exact_eur == original.valorisation_exact_eur
    assert shuffled.excess_exact_eur == original.excess_exact_eur
    assert shuffled.warnings == original.warnings
