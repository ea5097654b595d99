"""The accounts in the API: the same service as the pages, the managers only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cer.treasury.models import Expense
from tests import factories
from tests.api.conftest import assert_error, client_for
from tests.treasury.helpers import add_expense, expense_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def community():
    return factories.make_community(name="CER Api Conti")


@pytest.fixture
def referente(community):
    return factories.make_user_with_role(community, role="REFERENTE", username="api-tesoriere")


def _body(**overrides):
    values = expense_values(**overrides)
    values["document_date"] = values["document_date"].isoformat()
    return values


def test_a_manager_records_and_lists_expenses(community, referente):
    api = client_for(referente)
    url = f"/api/v1/communities/{community.pk}/expenses"

    created = api.post(url, _body(), format="json")
    listed = api.get(url, {"period": "2025"})

    assert created.status_code == 201, created.content
    assert created.json()["total_eur"] == "1220.00"
    assert [row["id"] for row in listed.json()["results"]] == [Expense.objects.get().pk]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"taxable_eur": "1000.001"}, "taxable_eur"),
        ({"vat_eur": "200.00"}, "vat_eur"),
        ({"category": "GSE_FEES"}, "category"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(community, referente, overrides, field):
    response = client_for(referente).post(
        f"/api/v1/communities/{community.pk}/expenses", _body(**overrides), format="json"
    )

    error = assert_error(response, 400)
    assert field in str(error)
    assert not Expense.objects.exists()


def test_income_and_the_report_as_json_and_csv(community, referente):
    add_expense(community, document_date=dt.date(2025, 3, 3))
    api = client_for(referente)

    income = api.get(f"/api/v1/communities/{community.pk}/income", {"period": "2025"})
    report = api.get(f"/api/v1/communities/{community.pk}/economic-report", {"period": "2025-Q1"})
    csv = api.get(
        f"/api/v1/communities/{community.pk}/economic-report",
        {"period": "2025", "format": "csv"},
    )

    assert income.status_code == 200 and income.json() == []
    body = report.json()
    assert Decimal(body["expenses_eur"]) == Decimal("1220.00")
    assert Decimal(body["balance_eur"]) == Decimal("-1220.00")
    assert [m["month"] for m in body["months"]] == ["2025-01", "2025-02", "2025-03"]
    assert "1220.00" in csv.content.decode()


def test_a_plain_member_cannot_read_the_accounts(community):
    member = factories.make_user_with_role(community, role="MEMBER", username="api-socio")

    response = client_for(member).get(f"/api/v1/communities/{community.pk}/economic-report")

    assert response.status_code in (403, 404)
