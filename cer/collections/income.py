"""What members actually paid: the collections the community's accounts read.

`collected(community_id, start, end)` lists every request paid on a day of [start, end)
(end exclusive, as every period here) by direct debit or pagoPA, and not returned since: a
debit that comes back (a return, or a refund the debtor asked for) turns its request back
to RETURNED and leaves this list, so the accounts never count money that went back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from cer.collections.models import PaymentRequest, RequestState


@dataclass(frozen=True)
class Collected:
    """One payment received from a member [EUR]."""

    paid_date: dt.date
    member_id: int
    kind: str
    description: str
    amount_eur: Decimal
    reference: str


def collected(community_id: int, start: dt.date, end: dt.date) -> list[Collected]:
    """Return the payments received in [start, end) (Europe/Rome days), oldest first."""
    paid = PaymentRequest.objects.filter(
        community_id=community_id,
        state=RequestState.PAID,
        paid_date__gte=start,
        paid_date__lt=end,
    ).order_by("paid_date", "pk")
    return [
        Collected(
            paid_date=request.paid_date,
            member_id=request.member_id,
            kind=request.kind,
            description=request.description,
            amount_eur=request.amount_eur,
            reference=request.reference,
        )
        for request in paid
        if request.paid_date is not None
    ]
