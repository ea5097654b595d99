"""On the demo community, the dashboard's 2025 money and shared energy are the settlement's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from cer.demo.loader import load_demo
from cer.distribution.models import Distribution
from cer.distribution.services import distribute_run, set_policy
from cer.settlement.services import compute_month
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

NOW = dt.datetime(2026, 1, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def demo_year(django_db_setup, django_db_blocker):
    """The demo settled for every month of 2025, distributed except December."""
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
        runs = []
        for configuration in community.configurations.all():
            for month in range(1, 13):
                run = compute_month(
                    configuration=configuration, month=dt.date(2025, month, 1), now=NOW
                ).run
                if month < 12:
                    distribute_run(run=run, actor=None, now=NOW)
                runs.append(run)
        yield community, runs
        transaction.set_rollback(True)


def test_the_dashboard_year_shows_the_settled_amounts_and_shared_energy(
    client, demo_year, monkeypatch
):
    community, runs = demo_year
    monkeypatch.setattr("cer.dashboards.views.timezone.now", lambda: NOW)
    client.force_login(factories.make_user_with_role(community, role="REFERENTE", username="t"))
    with translation.override("en"):
        url = reverse("dashboards:community", args=[community.pk])

    response = client.get(url, {"period": "2025"})

    figures = response.context["figures"]
    distributed = {d.run_id: d.amount_eur for d in Distribution.objects.filter(run__in=runs)}
    december = [r for r in runs if r.month.month == 12]
    expected = sum(distributed.values(), Decimal(0)) + sum(
        (r.incentive_eur + r.valorisation_eur - r.gse_fees_eur for r in december), Decimal(0)
    )
    assert figures.amount_eur == expected
    assert figures.settled_amount_eur == expected
    assert figures.estimated_months == 0
    assert figures.incentive_eur == sum((r.incentive_eur for r in runs), Decimal(0))
    assert figures.shared_wh == sum(r.shared_wh for r in runs)
    assert response.context["totals_kwh"]["shared"] == Decimal(figures.shared_wh) / 1000
    page = response.content.decode()
    assert "is an estimate" not in page
    assert "when monthly settlement is enabled" not in page
