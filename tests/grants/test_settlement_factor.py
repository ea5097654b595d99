"""A granted PNRR file sets the plant's grant share, and the next settlement applies the
reduced tariff TIP x (1 - F) that cercalc computes (REGULATION.md §4.3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from cer.settlement.services import compute_month
from cercalc import pnrr
from cercalc.money import round_eur
from cercalc.params import default_parameters
from tests.factories.settlement import add_prices, add_readings
from tests.grants.helpers import granted_application, small_in_spinea

pytestmark = pytest.mark.django_db

JUNE, JULY = dt.date(2025, 6, 1), dt.date(2025, 7, 1)
# Only the SME withdraws: no shared energy goes to a withdrawal point exempt from F.
WITHDRAWN = {"household": 0, "sme": 2300, "producer": 0}


def test_the_next_settlement_applies_the_factor_f_of_the_granted_share():
    small = small_in_spinea()
    for month in (JUNE, JULY):
        add_readings(small, month, withdrawn_wh=WITHDRAWN)
        add_prices(month)
    june = compute_month(
        configuration=small.configuration,
        month=JUNE,
        now=dt.datetime(2025, 7, 3, tzinfo=dt.UTC),
    ).run

    granted_application(small, granted="15000.00")
    july = compute_month(
        configuration=small.configuration,
        month=JULY,
        now=dt.datetime(2025, 8, 3, tzinfo=dt.UTC),
    ).run

    small.plant.refresh_from_db()
    assert small.plant.capital_grant_pct == Decimal("30.00")  # 15,000 of 50,000
    parameters = default_parameters()
    factor = pnrr.grant_reduction_factor(
        Fraction(30, 100),
        f_max=parameters.value_on("grant_reduction_f_max", JULY, []),
        share_at_f_max=parameters.value_on("grant_share_for_f_max", JULY, []),
    )
    assert factor == Fraction(3, 8)
    # June: 690 kWh at 130 EUR/MWh (the same zonal price both months).
    rate = Fraction(june.incentive_eur) / Fraction(june.shared_wh, 10**6)
    assert rate == 130
    assert july.incentive_eur == round_eur(Fraction(july.shared_wh, 10**6) * rate * (1 - factor))
    assert july.incentive_eur == Decimal("57.93")
