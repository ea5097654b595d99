"""The provider interface: what collections needs from a pagoPA intermediary, and no more.

A provider creates a debt position for one request (payer, amount, due date, description)
under the organisation's fiscal code, publishes it so it can be paid, and reads its status
and payment. Identifiers follow pagoPA's: IUPD (our id of the position), IUV (the unique
payment identifier) and the notice number (NAV, "numero avviso", what the payer types or
scans). Errors raise ProviderError; a provider retries what is worth retrying itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

PUBLISHED = "PUBLISHED"
PAID = "PAID"
DRAFT = "DRAFT"
INVALID = "INVALID"


class ProviderError(Exception):
    """The provider refused the request or could not be reached; the message says which."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Payer:
    fiscal_code: str
    full_name: str
    email: str
    is_company: bool


@dataclass(frozen=True)
class PositionRequest:
    """A debt position to create: one payment option, one transfer to the organisation."""

    iupd: str
    iuv: str
    payer: Payer
    company_name: str
    amount_eur: Decimal
    due_at: dt.datetime
    description: str
    iban: str


@dataclass(frozen=True)
class PositionState:
    """What the provider says of a position."""

    iupd: str
    iuv: str
    notice_number: str
    status: str
    paid_at: dt.datetime | None = None
    receipt_id: str = ""


class PaymentProvider(Protocol):
    def create(self, organisation: str, position: PositionRequest) -> PositionState: ...

    def publish(self, organisation: str, iupd: str) -> PositionState: ...

    def status(self, organisation: str, iupd: str) -> PositionState: ...
