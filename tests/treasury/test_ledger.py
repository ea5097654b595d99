"""The expense ledger refuses bad input naming the field, and is never edited in place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cer.audit.models import AuditEntry
from cer.treasury import ledger
from cer.treasury.models import EntryIsFinal, Expense
from tests import factories
from tests.treasury.helpers import NOW, add_expense

pytestmark = pytest.mark.django_db


@pytest.fixture
def community():
    return factories.make_community(name="CER Conti")


def _refused_field(community, **overrides) -> str:
    before = Expense.objects.count()
    with pytest.raises(ledger.EntryRefused) as caught:
        add_expense(community, **overrides)
    assert Expense.objects.count() == before
    (field,) = caught.value.message_dict
    return field


def test_an_expense_is_stored_with_its_total_and_audited(community):
    expense = add_expense(community, taxable_eur="86.46", vat_rate="22", vat_eur="19.02")

    assert expense.total_eur == Decimal("105.48")
    assert AuditEntry.objects.filter(code="treasury.expense.recorded").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"taxable_eur": "100.001"}, "taxable_eur"),
        ({"vat_eur": "22.005"}, "vat_eur"),
        ({"taxable_eur": "100.00", "vat_eur": "22.02"}, "vat_eur"),
        ({"vat_rate": "21"}, "vat_rate"),
        ({"total_eur": "1220.01"}, "total_eur"),
        ({"supplier_code": "12345678901"}, "supplier_code"),
        ({"category": "GSE_FEES"}, "category"),
        ({"taxable_eur": "-5.00"}, "taxable_eur"),
        ({"document_date": dt.date(2026, 2, 1)}, "document_date"),
        ({"payment_date": dt.date(2025, 6, 12), "payment_method": ""}, "payment_method"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(community, overrides, field):
    assert _refused_field(community, **overrides) == field


def test_vat_one_cent_off_is_accepted_as_a_supplier_rounding_per_line(community):
    expense = add_expense(community, taxable_eur="100.00", vat_eur="22.01")

    assert expense.total_eur == Decimal("122.01")


def test_the_same_supplier_document_is_not_recorded_twice(community):
    add_expense(community)

    assert _refused_field(community) == "document_number"


def test_a_paid_entry_is_never_edited_and_a_reversal_cancels_it(community):
    expense = add_expense(
        community, payment_date=dt.date(2025, 6, 20), payment_method="BANK_TRANSFER"
    )
    expense.note = "changed"
    with pytest.raises(EntryIsFinal):
        expense.save()

    reversal = ledger.reverse_expense(expense=expense, reason="wrong amount", actor=None, now=NOW)

    assert reversal.total_eur == -expense.total_eur
    assert reversal.reverses_id == expense.pk
    assert reversal.document_date == expense.document_date
    assert AuditEntry.objects.filter(code="treasury.expense.reversed").count() == 1
    with pytest.raises(ledger.EntryRefused):
        ledger.reverse_expense(expense=expense, reason="again", actor=None, now=NOW)
    with pytest.raises(ledger.EntryRefused):
        ledger.reverse_expense(expense=reversal, reason="again", actor=None, now=NOW)
    # After the reversal the same document may be recorded again, with the right amounts.
    add_expense(community, taxable_eur="900.00", vat_eur="198.00")


def test_a_payment_is_recorded_once(community):
    expense = add_expense(community)

    ledger.record_payment(
        expense=expense,
        payment_date=dt.date(2025, 7, 1),
        payment_method="BANK_TRANSFER",
        actor=None,
        now=NOW,
    )

    with pytest.raises(ledger.EntryRefused) as caught:
        ledger.record_payment(
            expense=expense,
            payment_date=dt.date(2025, 7, 2),
            payment_method="CARD",
            actor=None,
            now=NOW,
        )
    assert "payment_date" in caught.value.message_dict
    expense.refresh_from_db()
    assert expense.payment_date == dt.date(2025, 7, 1)


def test_manual_income_refuses_gse_and_three_decimals_and_reverses(community):
    with pytest.raises(ledger.EntryRefused) as gse:
        ledger.record_income(
            community=community,
            received_date=dt.date(2025, 3, 1),
            category="GSE",
            description="x",
            amount_eur="1.00",
            actor=None,
            now=NOW,
        )
    with pytest.raises(ledger.EntryRefused) as cents:
        ledger.record_income(
            community=community,
            received_date=dt.date(2025, 3, 1),
            category="OTHER",
            description="Donation",
            amount_eur="10.001",
            actor=None,
            now=NOW,
        )
    entry = ledger.record_income(
        community=community,
        received_date=dt.date(2025, 3, 1),
        category="OTHER",
        description="Donation",
        amount_eur="10.00",
        actor=None,
        now=NOW,
    )
    reversal = ledger.reverse_income(entry=entry, reason="typo", actor=None, now=NOW)

    assert list(gse.value.message_dict) == ["category"]
    assert list(cents.value.message_dict) == ["amount_eur"]
    assert reversal.amount_eur == Decimal("-10.00")


@settings(max_examples=40, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=10**9),
    rate=st.sampled_from(ledger.VAT_RATES),
    off=st.sampled_from([Decimal("-0.01"), Decimal("0"), Decimal("0.01")]),
)
def test_total_is_taxable_plus_vat_and_a_reversal_nets_to_zero(cents, rate, off):
    community = factories.make_community(name="CER Ipotesi")
    taxable = Decimal(cents).scaleb(-2)
    vat = ledger.expected_vat(taxable_eur=taxable, vat_rate=rate) + off
    if vat < 0:
        vat = Decimal("0.00")

    expense = add_expense(community, taxable_eur=str(taxable), vat_rate=str(rate), vat_eur=str(vat))
    reversal = ledger.reverse_expense(expense=expense, reason="test", actor=None, now=NOW)

    assert expense.total_eur == taxable + vat
    assert expense.total_eur + reversal.total_eur == 0
    assert abs(expense.vat_eur - taxable * rate / 100) <= Decimal("0.015")
