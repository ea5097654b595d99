"""The PNRR application file's rules in the engine: deadlines, disbursement limits, share."""

from datetime import date
from decimal import Decimal

import pytest

from cercalc import pnrr
from cercalc.params import default_parameters

PARAMETERS = default_parameters()


def test_entry_into_service_is_24_months_after_the_works_when_before_the_last_day():
    deadline = pnrr.entry_into_service_deadline(
        works_end_date=date(2025, 3, 31), months_after_works=24, until_date=date(2027, 12, 31)
    )

    assert deadline == date(2027, 3, 31)


def test_entry_into_service_never_passes_31_december_2027():
    deadline = pnrr.entry_into_service_deadline(
        works_end_date=date(2026, 6, 30), months_after_works=24, until_date=date(2027, 12, 31)
    )

    assert deadline == date(2027, 12, 31)


def test_a_month_without_the_day_falls_on_its_last_day():
    deadline = pnrr.entry_into_service_deadline(
        works_end_date=date(2025, 8, 31), months_after_works=6, until_date=date(2027, 12, 31)
    )

    assert deadline == date(2026, 2, 28)


def test_the_advance_is_30_percent_of_the_grant_after_dm_127():
    share = PARAMETERS.value_on("pnrr_advance_share", date(2025, 7, 1), [])

    assert pnrr.advance_limit_eur(grant_eur=Decimal("20000.01"), advance_share=share) == Decimal(
        "6000.00"
    )


def test_an_instalment_asks_at_most_the_grant_share_of_the_documented_costs():
    limit = pnrr.documented_limit_eur(
        documented_eur=Decimal("12345.67"), grant_share=Decimal("0.40")
    )

    assert limit == Decimal("4938.27")


def test_the_grant_share_is_a_percentage_rounded_half_up():
    assert pnrr.grant_share_pct(grant_eur=Decimal("1"), base_eur=Decimal("8")) == Decimal("12.50")
    assert pnrr.grant_share_pct(grant_eur=Decimal("1"), base_eur=Decimal("3")) == Decimal("33.33")
    with pytest.raises(ValueError):
        pnrr.grant_share_pct(grant_eur=Decimal("1"), base_eur=Decimal("0"))


def test_the_population_limit_moves_from_5000_to_50000_with_dm_127():
    assert PARAMETERS.value_on("pnrr_max_population", date(2025, 6, 25), []) == 5000
    assert PARAMETERS.value_on("pnrr_max_population", date(2025, 6, 26), []) == 50000
    assert PARAMETERS.value_on("pnrr_works_end_until_date", date(2025, 7, 1), []) == date(
        2026, 6, 30
    )
