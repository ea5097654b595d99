"""The treasurer's pages, through the web client: expenses, reversal, income, budget, report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cer.audit.models import AuditEntry
from cer.treasury.models import BudgetLine, Expense, IncomeEntry
from tests import factories
from tests.treasury.helpers import add_expense, expense_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def community():
    return factories.make_community(name="CER Tesoreria")


@pytest.fixture
def manager(client, community):
    user = factories.make_user_with_role(community, role="REFERENTE", username="tesoriere")
    client.force_login(user)
    return client


def _url(name, pk, **query):
    url = reverse(f"treasury:{name}", kwargs={"pk": pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_manager_records_an_expense_from_the_page(manager, community):
    data = expense_values(document_date="2025-06-10", payment_date="2025-06-20")
    data["payment_method"] = "BANK_TRANSFER"

    response = manager.post(_url("expenses", community.pk), data)

    assert response.status_code == 302
    expense = Expense.objects.get()
    assert (expense.total_eur, expense.payment_method) == (Decimal("1220.00"), "BANK_TRANSFER")
    page = manager.get(_url("expenses", community.pk))
    assert "1.220,00" in page.content.decode()


def test_a_vat_that_does_not_match_comes_back_naming_the_field(manager, community):
    data = expense_values(document_date="2025-06-10", vat_eur="200.00")

    response = manager.post(_url("expenses", community.pk), data)

    assert response.status_code == 200
    assert not Expense.objects.exists()
    errors = response.context["form"].errors
    assert list(errors) == ["vat_eur"]


def test_three_decimals_are_refused_on_the_page(manager, community):
    data = expense_values(document_date="2025-06-10", taxable_eur="1000.001")

    response = manager.post(_url("expenses", community.pk), data)

    assert "taxable_eur" in response.context["form"].errors
    assert not Expense.objects.exists()


def test_reversing_asks_for_a_confirmation_then_adds_a_reversing_entry(manager, community):
    expense = add_expense(community)
    url = reverse("treasury:expense_reverse", kwargs={"pk": expense.pk})

    first = manager.post(url, {"reason": "wrong supplier"})
    assert first.status_code == 200
    assert b'name="confirmed"' in first.content
    assert Expense.objects.count() == 1

    second = manager.post(url, {"reason": "wrong supplier", "confirmed": "yes"})

    assert second.status_code == 302
    reversal = Expense.objects.get(reverses=expense)
    assert reversal.total_eur == Decimal("-1220.00")
    assert AuditEntry.objects.filter(code="treasury.expense.reversed").exists()


def test_a_manager_records_a_payment_from_the_list(manager, community):
    expense = add_expense(community)

    manager.post(
        reverse("treasury:expense_paid", kwargs={"pk": expense.pk}),
        {"payment_date": "2025-07-01", "payment_method": "CARD"},
    )

    expense.refresh_from_db()
    assert expense.payment_date == dt.date(2025, 7, 1)


def test_income_typed_by_hand_is_listed_with_the_year(manager, community):
    response = manager.post(
        _url("income", community.pk, year=2025),
        {
            "received_date": "2025-05-04",
            "category": "OTHER",
            "description": "Donazione",
            "amount_eur": "150.00",
        },
    )

    assert response.status_code == 302
    assert IncomeEntry.objects.get().amount_eur == Decimal("150.00")
    page = manager.get(_url("income", community.pk, year=2025)).content.decode()
    assert "Donazione" in page and "150,00" in page


def test_the_budget_page_saves_and_refuses_a_day_outside_the_year(manager, community):
    response = manager.post(
        _url("budget", community.pk, year=2025),
        {"expense_MANAGEMENT": "2000.00", "income_FEES": "500.00"},
    )
    outside = manager.get(_url("budget", community.pk, year=2025, until="2024-12-31"))

    assert response.status_code == 302
    assert BudgetLine.objects.count() == 2
    assert "until" in outside.context["until_form"].errors


def test_the_report_page_and_its_files(manager, community):
    add_expense(community)

    page = manager.get(_url("report", community.pk, period="2025-Q2"))
    csv = manager.get(_url("report", community.pk, period="2025", format="csv"))
    xlsx = manager.get(_url("report", community.pk, period="2025", format="xlsx"))
    pdf = manager.get(_url("report", community.pk, period="2025-06", format="pdf"))

    assert page.status_code == 200
    assert "-1.220,00" in page.content.decode()
    assert csv["Content-Type"].startswith("text/csv")
    assert "-1.220,00" in csv.content.decode("utf-8-sig")
    assert xlsx.content[:2] == b"PK"
    assert pdf.content.startswith(b"%PDF")


def test_a_member_who_does_not_manage_cannot_open_the_accounts(client, community):
    user = factories.make_user_with_role(community, role="MEMBER", username="socio-semplice")
    client.force_login(user)

    for name in ("expenses", "income", "budget", "report"):
        assert client.get(_url(name, community.pk)).status_code == 403


def test_the_community_page_links_to_the_accounts(manager, community):
    page = manager.get(reverse("community_detail", kwargs={"pk": community.pk}))

    assert _url("report", community.pk).encode() in page.content


def test_an_attachment_is_stored_under_a_random_name_and_downloaded(manager, community):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = expense_values(document_date="2025-06-10")
    data["attachment"] = SimpleUploadedFile("fattura 12.pdf", b"%PDF-1.4 prova", "application/pdf")

    manager.post(_url("expenses", community.pk), data)
    expense = Expense.objects.get()
    download = manager.get(reverse("treasury:expense_attachment", kwargs={"pk": expense.pk}))

    assert expense.attachment_name == "fattura 12.pdf"
    assert "fattura" not in expense.attachment.name
    assert b"".join(download.streaming_content if download.streaming else [download.content]) == (
        b"%PDF-1.4 prova"
    )
