"""Income sources: a registry other apps extend, grants received, GSE from settlement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.grants.models import DisbursementRequest, GrantApplication
from cer.treasury.income import (
    IncomeItem,
    income_items,
    register_income_source,
    unregister_income_source,
)
from cer.treasury.report import build_report
from cercalc import periods
from tests.factories.settlement import make_small
from tests.treasury.helpers import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def small():
    return make_small()


def test_a_registered_source_appears_in_the_income_and_the_report(small):
    seen = []

    def fees(community_id, start, end):
        seen.append((community_id, start, end))
        return [
            IncomeItem(
                day=dt.date(2025, 2, 3),
                category="FEES",
                description="Entry fee, Anna",
                amount=Decimal("25.00"),
                reference="collection:1",
            ),
            # Outside the asked days: the registry drops it.
            IncomeItem(
                day=dt.date(2026, 2, 3),
                category="FEES",
                description="Next year",
                amount=Decimal("25.00"),
            ),
        ]

    register_income_source("test-fees", "Fees collected", fees)
    try:
        items = income_items(
            community_id=small.community.pk, start=dt.date(2025, 1, 1), end=dt.date(2026, 1, 1)
        )
        report = build_report(community=small.community, period=periods.year(2025))
    finally:
        unregister_income_source("test-fees")

    (item,) = [i for i in items if i.source == "test-fees"]
    assert item.amount == Decimal("25.00")
    assert seen[0] == (small.community.pk, dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    assert report.totals.income["FEES"] == Decimal("25.00")
    assert report.by_month[1][1].income["FEES"] == Decimal("25.00")


def _paid_request(small, *, applicant: str, received: str, day: dt.date) -> DisbursementRequest:
    application, _ = GrantApplication.objects.get_or_create(
        plant=small.plant,
        defaults={"applicant": applicant, "created_at": NOW},
    )
    return DisbursementRequest.objects.create(
        application=application,
        kind="ADVANCE",
        requested_eur=Decimal(received),
        state="PAID",
        created_at=NOW,
        received_eur=Decimal(received),
        received_date=day,
    )


def test_grants_received_by_the_community_are_income_on_the_day_received(small):
    _paid_request(small, applicant="COMMUNITY", received="6000.00", day=dt.date(2025, 4, 15))

    report = build_report(community=small.community, period=periods.quarter(2025, 2))

    assert report.totals.income["GRANTS"] == Decimal("6000.00")
    assert report.by_month[0][1].income["GRANTS"] == Decimal("6000.00")


def test_a_grant_paid_to_the_plant_owner_is_not_the_community_income(small):
    _paid_request(small, applicant="OWNER", received="6000.00", day=dt.date(2025, 4, 15))

    report = build_report(community=small.community, period=periods.year(2025))

    assert "GRANTS" not in report.totals.income
