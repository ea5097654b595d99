"""The settlement year: the enterprises' ceiling is the engine's rule, over the year's runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.distribution.models import Distribution
from cer.distribution.services import distribute_run, set_policy
from cer.settlement.services import compute_month
from cer.settlement.year import year_summary
from cercalc.distribution import enterprise_ceiling_cents
from tests.factories.settlement import settled_small

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
JUNE = dt.date(2025, 6, 1)


def _distributed_june():
    """June 2025 of the small configuration, shared out with a social and a works pot."""
    small = settled_small(JUNE)
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[
            {"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True},
            {"code": "works", "label": "Works", "percent": Decimal("10"), "social": False},
        ],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    return small, distribute_run(run=run, actor=None, now=NOW)


def test_the_year_summary_and_the_engine_give_the_same_enterprise_ceiling():
    small, distribution = _distributed_june()

    summary = year_summary(configuration=small.configuration, year=2025)

    # Worked example: 93.66 distributed, 19.44 of excess over the year (June is the only
    # month), pots of 4.68 (social, not deducted) and 9.37 (works): 93.66 - 19.44 - 9.37.
    assert distribution.amount_eur == Decimal("93.66")
    assert summary.year_excess_eur == Decimal("19.44")
    assert summary.enterprise_ceiling_eur == Decimal("64.85")
    engine_cents = enterprise_ceiling_cents(
        amount_cents=9366,
        excess_cents=1944,
        pot_cents={"social": 468, "works": 937},
        social={"social"},
    )
    assert engine_cents == 6485
    # The engine applied the same rule to the month when it shared the amount out.
    assert distribution.enterprise_ceiling_eur == summary.enterprise_ceiling_eur
    assert summary.enterprise_eur == distribution.enterprise_eur
    assert not summary.enterprises_above_ceiling


def test_the_year_ceiling_is_zero_when_the_excess_and_pots_take_the_whole_amount():
    small, distribution = _distributed_june()
    pots = [
        dict(pot, amount_eur="80.00") if pot["code"] == "works" else pot
        for pot in distribution.pots
    ]
    Distribution.objects.filter(pk=distribution.pk).update(pots=pots)

    summary = year_summary(configuration=small.configuration, year=2025)

    # 93.66 - 19.44 - 80.00 is below zero: enterprises may receive nothing.
    assert (
        enterprise_ceiling_cents(
            amount_cents=9366,
            excess_cents=1944,
            pot_cents={"social": 468, "works": 8000},
            social={"social"},
        )
        == 0
    )
    assert summary.enterprise_ceiling_eur == Decimal(0)
    assert str(summary.enterprise_ceiling_eur) == "0"
    assert summary.enterprises_above_ceiling
