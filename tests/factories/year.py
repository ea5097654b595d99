"""A whole settled and distributed year (2025) of the small configuration, for the tests of
the yearly 55 %/45 % true-up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cer.distribution.services import distribute_run, set_policy
from cer.settlement.services import compute_month, finalise_run
from cercalc import periods
from tests.factories.settlement import Small, add_prices, add_readings, make_small

# After the year: every month of 2025 has ended.
AFTER_YEAR = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)
YEAR = 2025
HIGH = {"household": 700, "sme": 1500, "producer": 100}
LOW = {"household": 300, "sme": 500, "producer": 100}


def make_year(*, withdrawn_wh_by_month=None, prices: bool = True) -> Small:
    """The small configuration with readings and prices for each month of 2025.

    `withdrawn_wh_by_month` maps a month number to the hourly withdrawals (HIGH by default):
    with HIGH the plant's shared energy is 2,300 of 3,000 Wh in a daylight hour (77 %, above
    the 55 % threshold), with LOW 900 of 3,000 (30 %). `prices=False` for a second
    configuration in the same test (the zonal prices are shared).
    """
    small = make_small()
    for month in periods.year(YEAR).months():
        withdrawn = (withdrawn_wh_by_month or {}).get(month.start.month, HIGH)
        add_readings(small, month.start, withdrawn_wh=withdrawn)
        if prices:
            add_prices(month.start)
    return small


def set_year_policy(small: Small, **overrides) -> None:
    """A 5 % social pot and custom weights that favour the SME (9 to the household's 1)."""
    fields = {
        "community": small.community,
        "valid_from": dt.date(YEAR, 1, 1),
        "pots": [
            {"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True}
        ],
        "components": [{"basis": "CUSTOM", "percent": Decimal(100)}],
        "custom_weights": {small.sme.pk: Decimal(9), small.household.pk: Decimal(1)},
        "excess_to_social_percent": Decimal(25),
        "actor": None,
        "now": AFTER_YEAR,
    }
    fields.update(overrides)
    set_policy(**fields)


def settle_and_distribute(small: Small, *, months=range(1, 13), final: bool = True) -> None:
    """Settle, finalise and distribute the given months of 2025."""
    for number in months:
        run = compute_month(
            configuration=small.configuration, month=dt.date(YEAR, number, 1), now=AFTER_YEAR
        ).run
        if final:
            run = finalise_run(run=run, actor=None, now=AFTER_YEAR)
        distribute_run(run=run, actor=None, now=AFTER_YEAR)
