"""The dashboards and the statements agree to the Wh on the demo community, month by month.

Both now apply the engine's rules (cercalc.sharing, cercalc.distribution): the community's
shared energy, and each member's part as consumer and as producer, read on the dashboard
equal the figures printed on the member's statement for every month of 2025. The dashboard
shows no per-member amount in euro, so the comparison is on the energies it shows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from cer.billing.explain import figures
from cer.billing.models import Statement, StatementStatus
from cer.dashboards import money, services
from cer.demo.loader import load_demo
from cer.distribution.services import distribute_run, set_policy
from cer.settlement.models import RunMember
from cer.settlement.services import compute_month
from cercalc import periods

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

NOW = dt.datetime(2026, 1, 20, 9, 0, tzinfo=dt.UTC)
MONTHS = [dt.date(2025, month, 1) for month in range(1, 13)]


@pytest.fixture(scope="module")
def demo_year(django_db_setup, django_db_blocker):
    """The demo settled, distributed and stated for every month of 2025, built once."""
    with django_db_blocker.unblock(), transaction.atomic():
        community = load_demo(now=NOW).community
        set_policy(
            community=community,
            valid_from=dt.date(2025, 1, 1),
            pots=[],
            components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
            actor=None,
            now=NOW,
        )
        runs = {}
        for configuration in community.configurations.all():
            for month in MONTHS:
                run = compute_month(configuration=configuration, month=month, now=NOW).run
                distribute_run(run=run, actor=None, now=NOW)
                runs.setdefault(month, []).append(run)
        yield community, runs
        transaction.set_rollback(True)


@pytest.mark.parametrize("month", MONTHS, ids=lambda month: f"{month:%Y-%m}")
def test_dashboard_shared_energy_equals_the_settled_months(demo_year, month):
    community, runs = demo_year

    data = services.community_period_data(
        community=community, period=periods.month(month.year, month.month), now=NOW
    )

    assert int(data.shared_wh.sum()) == sum(run.shared_wh for run in runs[month])
    for run in runs[month]:
        assert int(data.by_configuration[run.configuration_id][3].sum()) == run.shared_wh


@pytest.mark.parametrize("month", MONTHS, ids=lambda month: f"{month:%Y-%m}")
def test_member_portal_figures_equal_each_statement(demo_year, month):
    community, runs = demo_year
    statements = Statement.objects.filter(
        month=month, status=StatementStatus.CURRENT, configuration__community=community
    ).select_related("distribution__run")

    period = periods.month(month.year, month.month)
    portal = money.period_figures(community=community, period=period, now=NOW, with_members=True)
    compared = 0
    for statement in statements:
        shown = figures(statement)
        own = portal.member_hourly(statement.member_id)

        assert int(own[money.AS_CONSUMER].sum()) == shown.consumer_shared_wh
        assert int(own[money.AS_PRODUCER].sum()) == shown.producer_shared_wh
        assert portal.shared_wh == shown.community_shared_wh
        compared += 1

    assert compared == RunMember.objects.filter(run__in=runs[month]).count() > 0
