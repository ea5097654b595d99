"""What members paid, as income of the community's accounts (cer.treasury).

Fees (membership and entry) are income of the category "membership fees"; a balance owed
paid back returns money a member had received beyond their share, so it is "other
income" with its own description. Registered as the accounts' source "fees" when the app
is ready.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy

from cer.collections.income import collected
from cer.collections.models import RequestKind
from cer.treasury.income import IncomeItem, register_income_source
from cer.treasury.models import IncomeCategory

_FEE_KINDS = {RequestKind.MEMBERSHIP_FEE, RequestKind.ENTRY_FEE}


def fee_income(community_id: int, start: dt.date, end: dt.date) -> list[IncomeItem]:
    """The payments received from members in [start, end), as income items."""
    return [
        IncomeItem(
            day=payment.paid_date,
            category=IncomeCategory.FEES if payment.kind in _FEE_KINDS else IncomeCategory.OTHER,
            description=payment.description,
            amount=payment.amount_eur,
            reference=payment.reference,
            source="fees",
        )
        for payment in collected(community_id, start, end)
    ]


def register() -> None:
    register_income_source("fees", gettext_lazy("Paid by members"), fee_income)
