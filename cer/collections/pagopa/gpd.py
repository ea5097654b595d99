"""The adapter to pagoPA's debt-position API, GPD ("Gestione Posizioni Debitorie").

Followed: the OpenAPI "PagoPA API Debt Position" (GPD) v1 as published by PagoPA S.p.A. in
github.com/pagopa/pagopa-infra, src/domains/gps-app/api/gpd_api/v2/_openapi.json.tpl (info
version 0.11.x, servers https://api.uat.platform.pagopa.it/gpd/api/v1 and
https://api.platform.pagopa.it/gpd/api/v1); docs/collections.md says what is used:

    POST /organizations/{organizationfiscalcode}/debtpositions           PaymentPositionModel
    POST /organizations/{organizationfiscalcode}/debtpositions/{iupd}/publish
    GET  /organizations/{organizationfiscalcode}/debtpositions/{iupd}

The body: iupd, type ("F" natural person, "G" legal person), fiscalCode, fullName, email,
companyName, switchToExpired, paymentOption [{iuv, amount (euro cents, int64),
description (≤ 140), isPartialPayment, dueDate, transfer [{idTransfer "1", amount,
remittanceInformation, category, iban}]}]; the answer adds status (DRAFT, PUBLISHED,
VALID, INVALID, EXPIRED, PARTIALLY_PAID, PAID, REPORTED), paymentDate and, per option,
nav (the notice number), paymentDate and idReceipt. The subscription key travels in the
Ocp-Apim-Subscription-Key header.

Retries: a 429, a 5xx or a network error is retried (three attempts, growing pause); a
409 on creation means the position exists (an earlier attempt reached GPD before the
answer was lost), so it is read back instead of created twice.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import requests

from cer.collections.pagopa.base import (
    DRAFT,
    INVALID,
    PAID,
    PUBLISHED,
    PositionRequest,
    PositionState,
    ProviderError,
)
from cer.collections.sepa import cents

ROME = ZoneInfo("Europe/Rome")
# Payment-category code of the transfer (pagoPA "tassonomia"): a fee to a public body.
TRANSFER_CATEGORY = "9/0101108TS/"
_STATUS = {
    "DRAFT": DRAFT,
    "PUBLISHED": PUBLISHED,
    "VALID": PUBLISHED,
    "PARTIALLY_PAID": PUBLISHED,
    "PAID": PAID,
    "REPORTED": PAID,
    "INVALID": INVALID,
    "EXPIRED": INVALID,
}


class GpdProvider:
    """pagoPA GPD over HTTPS; `sleep` is injectable so tests need not wait."""

    def __init__(
        self,
        *,
        base_url: str,
        subscription_key: str,
        session: requests.Session | None = None,
        attempts: int = 3,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.subscription_key = subscription_key
        self.session = session or requests.Session()
        self.attempts = attempts
        self.timeout = timeout
        self.sleep = sleep

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        last: str = ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.session.request(
                    method,
                    f"{self.base_url}{path}",
                    json=body,
                    params=params or None,
                    headers={"Ocp-Apim-Subscription-Key": self.subscription_key},
                    timeout=self.timeout,
                )
            except requests.RequestException as error:
                last = str(error)
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                last = f"HTTP {response.status_code}: {_detail(response)}"
            if attempt < self.attempts:
                self.sleep(0.5 * 2**attempt)
        raise ProviderError(f"pagoPA GPD unreachable after {self.attempts} attempts ({last})")

    def create(self, organisation: str, position: PositionRequest) -> PositionState:
        response = self._call(
            "POST",
            f"/organizations/{organisation}/debtpositions",
            _body(organisation, position),
        )
        if response.status_code == 409:
            return self.status(organisation, position.iupd)
        return self._state(response, "create")

    def publish(self, organisation: str, iupd: str) -> PositionState:
        response = self._call("POST", f"/organizations/{organisation}/debtpositions/{iupd}/publish")
        if response.status_code == 409:
            # Already published (a retried call): read where it stands.
            return self.status(organisation, iupd)
        return self._state(response, "publish")

    def status(self, organisation: str, iupd: str) -> PositionState:
        response = self._call("GET", f"/organizations/{organisation}/debtpositions/{iupd}")
        return self._state(response, "status")

    def _state(self, response: requests.Response, what: str) -> PositionState:
        if response.status_code >= 400:
            raise ProviderError(
                f"pagoPA GPD refused the {what} (HTTP {response.status_code}: {_detail(response)})",
                status=response.status_code,
            )
        data = response.json()
        options = data.get("paymentOption") or [{}]
        option = options[0]
        paid_text = option.get("paymentDate") or data.get("paymentDate")
        iuv = option.get("iuv", "")
        return PositionState(
            iupd=data.get("iupd", ""),
            iuv=iuv,
            notice_number=option.get("nav") or (f"3{iuv}" if iuv else ""),
            status=_STATUS.get(data.get("status", ""), DRAFT),
            paid_at=_instant(paid_text) if paid_text else None,
            receipt_id=option.get("idReceipt") or "",
        )


def _detail(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("title") or data)[:200]
    return str(data)[:200]


def _instant(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    # GPD writes local Italian time without an offset: read it as Europe/Rome.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ROME)
    return moment.astimezone(dt.UTC)


def _body(organisation: str, position: PositionRequest) -> dict[str, Any]:
    amount = cents(position.amount_eur)
    return {
        "iupd": position.iupd,
        "type": "G" if position.payer.is_company else "F",
        "fiscalCode": position.payer.fiscal_code,
        "fullName": position.payer.full_name[:140],
        "email": position.payer.email,
        "companyName": position.company_name[:140],
        "switchToExpired": False,
        "paymentOption": [
            {
                "iuv": position.iuv,
                "amount": amount,
                "description": position.description[:140],
                "isPartialPayment": False,
                "dueDate": position.due_at.isoformat(),
                "transfer": [
                    {
                        "idTransfer": "1",
                        "amount": amount,
                        "organizationFiscalCode": organisation,
                        "remittanceInformation": position.description[:140],
                        "category": TRANSFER_CATEGORY,
                        "iban": position.iban,
                    }
                ],
            }
        ],
    }
