"""Record expenses and manual income, their payment, and their reversal; never an edit.

Every write of the pages and of the API comes through these functions. A refused entry
raises EntryRefused, a ValidationError whose message dict names the field; nothing is
stored then. VAT is checked against the taxable amount and the rate: the VAT typed may
differ from taxable x rate / 100, rounded half up to the cent, by at most one cent, since
some suppliers round the VAT of each line (docs/treasury.md). The total is always taxable
plus VAT.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.communities.models import Community
from cer.treasury.models import (
    DocumentKind,
    Expense,
    ExpenseCategory,
    IncomeCategory,
    IncomeEntry,
    PaymentMethod,
)
from cercalc.money import CENT, round_half_up

# The Italian VAT rates (DPR 633/1972: ordinary 22 %, reduced 10 %, 5 % and 4 %), and 0 for
# operations outside VAT or exempt (an insurance premium, a GSE fee).
VAT_RATES = (Decimal("0"), Decimal("4"), Decimal("5"), Decimal("10"), Decimal("22"))
VAT_TOLERANCE_EUR = Decimal("0.01")
# An amount field holds 12 digits, 2 of them decimals.
MAX_AMOUNT_EUR = Decimal("1e10")


class EntryRefused(ValidationError):
    """An entry that cannot be stored; `message_dict` names each field and its problem."""


def _refuse(field: str, message: str) -> EntryRefused:
    return EntryRefused({field: [message]})


def checked_amount(value: Any, *, field: str, allow_negative: bool = False) -> Decimal:
    """Return `value` as a Decimal of at most two decimals, or refuse it naming `field`."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise _refuse(field, _("Write an amount such as 1234.56.")) from None
    if not amount.is_finite():
        raise _refuse(field, _("Write an amount such as 1234.56."))
    if amount != amount.quantize(CENT):
        raise _refuse(field, _("An amount has at most two decimals (whole cents)."))
    if amount < 0 and not allow_negative:
        raise _refuse(field, _("The amount cannot be negative."))
    if abs(amount) >= MAX_AMOUNT_EUR:
        raise _refuse(field, _("The amount is too large."))
    return amount.quantize(CENT)


def expected_vat(*, taxable_eur: Decimal, vat_rate: Decimal) -> Decimal:
    """Return taxable x rate / 100 rounded half up to the cent [EUR] (DPR 633/1972 art. 16)."""
    return round_half_up(taxable_eur * vat_rate / Decimal(100))


def _checked_rate(value: Any) -> Decimal:
    try:
        rate = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        rate = Decimal(-1)
    if rate not in VAT_RATES:
        raise _refuse(
            "vat_rate",
            _("The VAT rate is one of %(rates)s.")
            % {"rates": ", ".join(f"{r}" for r in VAT_RATES)},
        )
    return rate


def _today(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


@transaction.atomic
def record_expense(
    *,
    community: Community,
    supplier_name: str,
    supplier_code: str,
    document_kind: str,
    document_number: str,
    document_date: dt.date,
    category: str,
    taxable_eur: Any,
    vat_rate: Any,
    vat_eur: Any,
    total_eur: Any = None,
    payment_date: dt.date | None = None,
    payment_method: str = "",
    attachment: UploadedFile | None = None,
    note: str = "",
    actor: Any,
    now: dt.datetime,
) -> Expense:
    """Add an entry to the expense ledger and audit it (`treasury.expense.recorded`).

    GSE fees are refused: they come from settlement (REGULATION.md §7, netted by GSE) and
    are never typed twice. Raises EntryRefused naming the field.
    """
    if category == ExpenseCategory.GSE_FEES:
        raise _refuse(
            "category",
            _("GSE fees come from the settlement of each month: they are not typed here."),
        )
    if category not in ExpenseCategory.values:
        raise _refuse("category", _("Choose a category from the list."))
    if document_kind not in DocumentKind.values:
        raise _refuse("document_kind", _("Choose a document kind from the list."))
    if not supplier_name.strip():
        raise _refuse("supplier_name", _("Name the supplier."))
    if not document_number.strip():
        raise _refuse("document_number", _("Give the document's number."))
    taxable = checked_amount(taxable_eur, field="taxable_eur")
    rate = _checked_rate(vat_rate)
    vat = checked_amount(vat_eur, field="vat_eur")
    expected = expected_vat(taxable_eur=taxable, vat_rate=rate)
    if abs(vat - expected) > VAT_TOLERANCE_EUR:
        raise _refuse(
            "vat_eur",
            _("The VAT does not match: %(rate)s %% of %(taxable)s is %(expected)s.")
            % {"rate": rate, "taxable": taxable, "expected": expected},
        )
    total = taxable + vat
    if total_eur not in (None, ""):
        typed = checked_amount(total_eur, field="total_eur")
        if typed != total:
            raise _refuse(
                "total_eur",
                _("The total is the taxable amount plus VAT: %(total)s.") % {"total": total},
            )
    if document_date > _today(now):
        raise _refuse("document_date", _("The document date is in the future."))
    _check_payment(payment_date, payment_method, now=now)
    duplicate = Expense.objects.filter(
        community=community,
        supplier_code__iexact=supplier_code.strip(),
        document_number__iexact=document_number.strip(),
        document_date__year=document_date.year,
        reverses__isnull=True,
        reversed_by__isnull=True,
    ).exists()
    if duplicate:
        raise _refuse(
            "document_number",
            _("This supplier's document is already in the ledger for that year."),
        )
    expense = Expense(
        community=community,
        supplier_name=supplier_name.strip(),
        supplier_code=supplier_code.strip().upper(),
        document_kind=document_kind,
        document_number=document_number.strip(),
        document_date=document_date,
        category=category,
        taxable_eur=taxable,
        vat_rate=rate,
        vat_eur=vat,
        total_eur=total,
        payment_date=payment_date,
        payment_method=payment_method if payment_date else "",
        note=note,
        recorded_at=now,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        expense.full_clean(exclude=["attachment", "recorded_by", "community"])
    except ValidationError as error:
        raise EntryRefused(error.message_dict) from None
    if attachment is not None:
        expense.attachment_name = attachment.name[:200] if attachment.name else ""
        expense.attachment.save(attachment.name or "file", attachment, save=False)
    expense.save()
    record(
        actor=actor,
        code="treasury.expense.recorded",
        now=now,
        target=expense,
        community=community,
        changes={"total_eur": str(total), "category": category, "paid": bool(payment_date)},
    )
    return expense


def _check_payment(payment_date: dt.date | None, method: str, *, now: dt.datetime) -> None:
    if payment_date is None:
        return
    if payment_date > _today(now):
        raise _refuse("payment_date", _("The payment date is in the future."))
    if method not in PaymentMethod.values:
        raise _refuse("payment_method", _("Say how the expense was paid."))


@transaction.atomic
def record_payment(
    *, expense: Expense, payment_date: dt.date, payment_method: str, actor: Any, now: dt.datetime
) -> Expense:
    """Record once that an unpaid expense was paid; audited (`treasury.expense.paid`)."""
    expense = Expense.objects.select_for_update().get(pk=expense.pk)
    if expense.is_paid or expense.is_reversal or expense.is_reversed:
        raise _refuse("payment_date", _("This entry is paid or reversed already."))
    _check_payment(payment_date, payment_method, now=now)
    expense.payment_date = payment_date
    expense.payment_method = payment_method
    expense.save(update_fields=["payment_date", "payment_method"])
    record(
        actor=actor,
        code="treasury.expense.paid",
        now=now,
        target=expense,
        community=expense.community,
        changes={"payment_date": [None, payment_date.isoformat()]},
    )
    return expense


@transaction.atomic
def reverse_expense(*, expense: Expense, reason: str, actor: Any, now: dt.datetime) -> Expense:
    """Cancel an entry with a reversing one: the same amounts, opposite sign, same date.

    The reversal carries the original's document date so that the period the mistake was
    in reads right afterwards; the audit log keeps when it was made and by whom
    (`treasury.expense.reversed`). Raises EntryRefused for a reversal or an entry already
    reversed.
    """
    expense = Expense.objects.select_for_update().get(pk=expense.pk)
    if expense.is_reversal:
        raise _refuse("expense", _("A reversing entry is not reversed again."))
    if Expense.objects.filter(reverses=expense).exists():
        raise _refuse("expense", _("This entry is reversed already."))
    if not reason.strip():
        raise _refuse("reason", _("Say why the entry is reversed."))
    reversal = Expense(
        community_id=expense.community_id,
        supplier_name=expense.supplier_name,
        supplier_code=expense.supplier_code,
        document_kind=expense.document_kind,
        document_number=expense.document_number,
        document_date=expense.document_date,
        category=expense.category,
        taxable_eur=-expense.taxable_eur,
        vat_rate=expense.vat_rate,
        vat_eur=-expense.vat_eur,
        total_eur=-expense.total_eur,
        payment_date=expense.payment_date,
        payment_method=expense.payment_method,
        note=reason.strip(),
        reverses=expense,
        recorded_at=now,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    reversal.save()
    record(
        actor=actor,
        code="treasury.expense.reversed",
        now=now,
        target=expense,
        community=expense.community,
        changes={"reversal_id": reversal.pk, "reason": reason.strip()},
    )
    return reversal


@transaction.atomic
def record_income(
    *,
    community: Community,
    received_date: dt.date,
    category: str,
    description: str,
    amount_eur: Any,
    reference: str = "",
    actor: Any,
    now: dt.datetime,
) -> IncomeEntry:
    """Add income the platform does not know of (a donation, a contribution); audited.

    GSE amounts are refused: they come from settlement's GSE ledger. Raises EntryRefused.
    """
    if category == IncomeCategory.GSE:
        raise _refuse(
            "category", _("GSE amounts come from settlement: import them there, not here.")
        )
    if category not in IncomeCategory.values:
        raise _refuse("category", _("Choose a category from the list."))
    if not description.strip():
        raise _refuse("description", _("Describe the income."))
    amount = checked_amount(amount_eur, field="amount_eur")
    if received_date > _today(now):
        raise _refuse("received_date", _("The date is in the future."))
    entry = IncomeEntry.objects.create(
        community=community,
        received_date=received_date,
        category=category,
        description=description.strip()[:300],
        amount_eur=amount,
        reference=reference.strip()[:100],
        recorded_at=now,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(
        actor=actor,
        code="treasury.income.recorded",
        now=now,
        target=entry,
        community=community,
        changes={"amount_eur": str(amount), "category": category},
    )
    return entry


@transaction.atomic
def reverse_income(*, entry: IncomeEntry, reason: str, actor: Any, now: dt.datetime) -> IncomeEntry:
    """Cancel a manual income entry with a reversing one (opposite sign, same day); audited."""
    entry = IncomeEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.reverses_id is not None or IncomeEntry.objects.filter(reverses=entry).exists():
        raise _refuse("entry", _("This entry is a reversal or reversed already."))
    if not reason.strip():
        raise _refuse("reason", _("Say why the entry is reversed."))
    reversal = IncomeEntry.objects.create(
        community_id=entry.community_id,
        received_date=entry.received_date,
        category=entry.category,
        description=entry.description,
        amount_eur=-entry.amount_eur,
        reference=reason.strip()[:100],
        reverses=entry,
        recorded_at=now,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(
        actor=actor,
        code="treasury.income.reversed",
        now=now,
        target=entry,
        community=entry.community,
        changes={"reversal_id": reversal.pk, "reason": reason.strip()},
    )
    return reversal
