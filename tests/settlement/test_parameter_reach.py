"""One change of a dated parameter reaches every reader: dashboard, eligibility, statement.

The change is made as an administrator makes it, with a RegulatoryParameter row laid over
cercalc.params (cer.incentives.parameters): the settlement, the plant checks and the
dashboards all read their numbers through that one door.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.billing.models import Statement, StatementStatus
from cer.dashboards import money as dashboards
from cer.distribution.services import distribute_run, set_policy
from cer.incentives.models import RegulatoryParameter
from cer.plants.eligibility import Outcome, Rule
from cer.plants.services import check_community_plants, stored_results
from cer.settlement.services import compute_month
from cercalc import periods
from tests.factories.settlement import settled_small

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
JUNE = dt.date(2025, 6, 1)


def _statement_total(small) -> Decimal:
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    distribute_run(run=run, actor=None, now=NOW)
    statements = Statement.objects.filter(
        configuration=small.configuration, month=JUNE, status=StatementStatus.CURRENT
    )
    return sum((statement.amount_eur for statement in statements), Decimal(0))


def _override(code: str, value: str) -> None:
    RegulatoryParameter.objects.create(code=code, value=Decimal(value), valid_from=JUNE)


@pytest.fixture
def small():
    small = settled_small()
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )
    return small


def test_a_valorisation_change_reaches_the_dashboard_and_the_statements(small):
    period = periods.month(2025, 6)
    estimate = dashboards.period_figures(community=small.community, period=period, now=NOW)
    before_total = _statement_total(small)
    settled = dashboards.period_figures(community=small.community, period=period, now=NOW)

    _override("valorisation_eur_per_mwh", "20")
    after_total = _statement_total(small)

    after = dashboards.period_figures(community=small.community, period=period, now=NOW)
    # The dashboard shows the engine's figures: its estimate equals the settled month, and
    # a new settlement under the new parameter moves both the dashboard and the statements.
    assert estimate.valorisation_eur == settled.valorisation_eur
    assert after.valorisation_eur > settled.valorisation_eur
    assert after.amount_eur == after_total
    assert after_total > before_total


def test_a_power_limit_change_reaches_the_eligibility_result_and_the_statements(small):
    check_community_plants(community=small.community, actor=None, now=NOW)
    small.plant.refresh_from_db()
    before_power = next(r for r in stored_results(small.plant) if r.rule == Rule.POWER)
    before_total = _statement_total(small)

    # The 45 kW plant is now above the limit: no tariff, and its check fails.
    RegulatoryParameter.objects.create(
        code="tip_max_power_kw", value=Decimal("40"), valid_from=dt.date(2020, 1, 1)
    )
    check_community_plants(community=small.community, actor=None, now=NOW)
    small.plant.refresh_from_db()
    after_power = next(r for r in stored_results(small.plant) if r.rule == Rule.POWER)

    assert (before_power.outcome, after_power.outcome) == (Outcome.PASS, Outcome.FAIL)
    assert after_power.values["max_kw"] == "40"
    assert _statement_total(small) < before_total


def test_an_existing_share_change_reaches_the_eligibility_result(small):
    old = small.plant.__class__.objects.create(
        connection_point=small.points["household"],
        owner=small.household,
        name="Old roof",
        source="PV",
        power_kw=Decimal("15"),
        entry_into_service_date=dt.date(2019, 5, 1),
    )
    check_community_plants(community=small.community, actor=None, now=NOW)
    old.refresh_from_db()
    before = next(r for r in stored_results(old) if r.rule == Rule.EXISTING_SHARE)

    # 15 kW of 60 kW is 25 %: within 30 %, above a limit of 20 %.
    RegulatoryParameter.objects.create(
        code="existing_share_max", value=Decimal("0.20"), valid_from=dt.date(2000, 1, 1)
    )
    check_community_plants(community=small.community, actor=None, now=NOW)
    old.refresh_from_db()
    after = next(r for r in stored_results(old) if r.rule == Rule.EXISTING_SHARE)

    assert (before.outcome, after.outcome) == (Outcome.PASS, Outcome.FAIL)
    assert (before.values["max_pct"], after.values["max_pct"]) == ("30", "20")
