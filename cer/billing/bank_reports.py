"""Bank status reports read into plain values: ISO 20022 pain.002 and camt.054.

Pure parsing, no database: `parse_report(content)` returns what the bank said about each
transaction, keyed by the EndToEndId we wrote in the pain.001 file; payout_lifecycle.py
matches and applies it. Namespaces are ignored (a tag is matched by its local name), so
every version of both messages reads the same (pain.002.001.03 to .10, camt.054.001.02 to
.08 differ in namespace and in where a status code sits, handled below).

- pain.002 (Customer Payment Status Report): GrpHdr/MsgId; OrgnlGrpInfAndSts/OrgnlMsgId
  (our pain.001 MsgId) and GrpSts; per transaction TxInfAndSts/OrgnlEndToEndId, TxSts and
  StsRsnInf/Rsn/Cd with AddtlInf. ACSC/ACCC mean settled, RJCT rejected; ACCP, ACTC, ACSP,
  ACWC, PDNG mean accepted or pending and change nothing. A group or payment-information
  status RJCT or ACSC without transaction details applies to every transaction.
- camt.054 (Bank to Customer Debit/Credit Notification): Ntfctn/Ntry with Sts (BOOK,
  PDNG), CdtDbtInd and RvslInd; NtryDtls/TxDtls/Refs/EndToEndId, the amount and, for a
  returned transfer, RtrInf/Rsn/Cd. A booked debit settles; a return or a reversal rejects.

Files with a DOCTYPE or entity declaration are refused before parsing (no entity tricks).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SETTLED = "SETTLED"
REJECTED = "REJECTED"
NO_CHANGE = ""

PAIN002 = "PAIN002"
CAMT054 = "CAMT054"

MAX_REPORT_BYTES = 5 * 1024 * 1024

_SETTLED_CODES = frozenset({"ACSC", "ACCC"})
_REJECTED_CODES = frozenset({"RJCT"})

# ISO 20022 External Status Reason codes a bank gives most often for credit transfers.
REASON_TEXTS = {
    "AC01": gettext_lazy("account number incorrect"),
    "AC04": gettext_lazy("account closed"),
    "AC06": gettext_lazy("account blocked"),
    "AC13": gettext_lazy("invalid debtor account type"),
    "AG01": gettext_lazy("transaction forbidden on this account"),
    "AG02": gettext_lazy("invalid bank operation code"),
    "AM04": gettext_lazy("insufficient funds"),
    "AM05": gettext_lazy("duplicate payment"),
    "AM09": gettext_lazy("wrong amount"),
    "BE04": gettext_lazy("creditor address missing or incorrect"),
    "CNOR": gettext_lazy("creditor bank not registered"),
    "DNOR": gettext_lazy("debtor bank not registered"),
    "DUPL": gettext_lazy("duplicate payment"),
    "FF01": gettext_lazy("invalid file format"),
    "MD07": gettext_lazy("end customer deceased"),
    "MS02": gettext_lazy("refused by the creditor"),
    "MS03": gettext_lazy("reason not specified by the bank"),
    "RC01": gettext_lazy("bank identifier (BIC) incorrect"),
    "RR01": gettext_lazy("debtor account or identification missing"),
    "RR02": gettext_lazy("debtor name or address missing"),
    "RR03": gettext_lazy("creditor name or address missing"),
    "RR04": gettext_lazy("regulatory reason"),
    "TM01": gettext_lazy("received after the cut-off time"),
}


class BankReportError(ValueError):
    """The file is not a pain.002 or camt.054 report this platform can read; says why."""


@dataclass(frozen=True)
class ReportTransaction:
    """What a report says about one transaction."""

    end_to_end_id: str
    status: str
    outcome: str
    reason_code: str
    reason: str
    amount_eur: Decimal | None
    original_message_id: str


@dataclass(frozen=True)
class ParsedReport:
    kind: str
    message_id: str
    created_at: str
    original_message_ids: tuple[str, ...]
    transactions: tuple[ReportTransaction, ...]


def reason_text(code: str, additional: str = "") -> str:
    """Return a reason in words: the code's meaning, then the bank's own text."""
    known = str(REASON_TEXTS.get(code, ""))
    return "; ".join(part for part in (known, additional.strip()) if part)[:300]


def parse_report(content: bytes) -> ParsedReport:
    """Read a pain.002 or camt.054 file. Raises BankReportError naming the problem."""
    if len(content) > MAX_REPORT_BYTES:
        raise BankReportError(_("the file is larger than 5 MB"))
    head = content[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in content.upper():
        raise BankReportError(
            _("the file declares a DOCTYPE or entities, which bank reports never do")
        )
    try:
        root = ET.fromstring(content)  # noqa: S314 (no DOCTYPE or entity: refused above)
    except ET.ParseError as error:
        raise BankReportError(
            _("the file is not well-formed XML (%(error)s)") % {"error": error}
        ) from error
    for element in root.iter():
        element.tag = _local(element.tag)
    message = root if root.tag != "Document" else next(iter(root), None)
    if message is None:
        raise BankReportError(_("the file is empty"))
    if message.tag == "CstmrPmtStsRpt":
        return _pain002(message)
    if message.tag == "BkToCstmrDbtCdtNtfctn":
        return _camt054(message)
    raise BankReportError(
        _("%(tag)s is not a payment status report (pain.002) or a debit notification (camt.054)")
        % {"tag": message.tag}
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else tag


def _text(element: ET.Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _reason(element: ET.Element | None) -> tuple[str, str]:
    """Return (code, words) of a StsRsnInf or RtrInf element."""
    if element is None:
        return "", ""
    code = _text(element, "Rsn/Cd") or _text(element, "Rsn/Prtry")
    additional = " ".join(
        (node.text or "").strip() for node in element.findall("AddtlInf") if node.text
    )
    return code, reason_text(code, additional)


def _amount(text: str) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise BankReportError(_("the amount %(text)r is not a number") % {"text": text}) from error


def _outcome(status: str) -> str:
    if status in _SETTLED_CODES:
        return SETTLED
    if status in _REJECTED_CODES:
        return REJECTED
    return NO_CHANGE


def _pain002(message: ET.Element) -> ParsedReport:
    group = message.find("OrgnlGrpInfAndSts")
    original = _text(group, "OrgnlMsgId")
    if not original:
        raise BankReportError(_("the report names no original message (OrgnlMsgId)"))
    transactions: list[ReportTransaction] = []
    group_status = _text(group, "GrpSts")
    group_code, group_reason = _reason(group.find("StsRsnInf") if group is not None else None)
    payment_infos = message.findall("OrgnlPmtInfAndSts")
    for payment_info in payment_infos:
        info_status = _text(payment_info, "PmtInfSts") or group_status
        info_code, info_reason = _reason(payment_info.find("StsRsnInf"))
        for tx in payment_info.findall("TxInfAndSts"):
            status = _text(tx, "TxSts") or info_status
            code, reason = _reason(tx.find("StsRsnInf"))
            transactions.append(
                ReportTransaction(
                    end_to_end_id=_text(tx, "OrgnlEndToEndId"),
                    status=status,
                    outcome=_outcome(status),
                    reason_code=code or info_code or group_code,
                    reason=reason or info_reason or group_reason,
                    amount_eur=_amount(_text(tx, "OrgnlTxRef/Amt/InstdAmt")),
                    original_message_id=original,
                )
            )
        if not payment_info.findall("TxInfAndSts") and info_status:
            # A status for the whole payment information: it speaks for every transaction.
            transactions.append(
                _whole(info_status, info_code or group_code, info_reason or group_reason, original)
            )
    if not payment_infos and group_status:
        transactions.append(_whole(group_status, group_code, group_reason, original))
    return ParsedReport(
        kind=PAIN002,
        message_id=_text(message, "GrpHdr/MsgId"),
        created_at=_text(message, "GrpHdr/CreDtTm"),
        original_message_ids=(original,),
        transactions=tuple(transactions),
    )


def _whole(status: str, code: str, reason: str, original: str) -> ReportTransaction:
    """A status given for every transaction of the original message (no EndToEndId)."""
    return ReportTransaction(
        end_to_end_id="",
        status=status,
        outcome=_outcome(status),
        reason_code=code,
        reason=reason,
        amount_eur=None,
        original_message_id=original,
    )


def _camt054(message: ET.Element) -> ParsedReport:
    transactions: list[ReportTransaction] = []
    for entry in message.iter("Ntry"):
        # camt.054.001.02 writes <Sts>BOOK</Sts>, later versions <Sts><Cd>BOOK</Cd></Sts>.
        status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
        debit = _text(entry, "CdtDbtInd") == "DBIT"
        reversal = _text(entry, "RvslInd").lower() == "true"
        details = entry.findall("NtryDtls/TxDtls")
        for tx in details:
            code, reason = _reason(tx.find("RtrInf"))
            if tx.find("RtrInf") is not None:
                outcome = REJECTED if status == "BOOK" else NO_CHANGE
            elif reversal:
                outcome = REJECTED if status == "BOOK" else NO_CHANGE
                reason = reason or _("the bank reversed the transfer")
            elif status == "BOOK" and debit:
                outcome = SETTLED
            else:
                outcome = NO_CHANGE
            amount = _text(tx, "AmtDtls/TxAmt/Amt") or _text(tx, "Amt")
            if not amount and len(details) == 1:
                amount = _text(entry, "Amt")
            transactions.append(
                ReportTransaction(
                    end_to_end_id=_text(tx, "Refs/EndToEndId"),
                    status=status,
                    outcome=outcome,
                    reason_code=code,
                    reason=reason,
                    amount_eur=_amount(amount),
                    original_message_id=_text(tx, "Refs/MsgId"),
                )
            )
    return ParsedReport(
        kind=CAMT054,
        message_id=_text(message, "GrpHdr/MsgId"),
        created_at=_text(message, "GrpHdr/CreDtTm"),
        original_message_ids=(),
        transactions=tuple(transactions),
    )
