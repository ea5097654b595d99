"""Bank reports on direct debits: pain.002 and camt.054 mark each collection paid or returned.

The files are read by cer.billing.bank_reports (namespaces ignored, DOCTYPE refused), the
same reader the payouts use; what differs for collections is the side of the account:

- pain.002 (status report on our pain.008): ACSC/ACCC mean collected, RJCT rejected (with
  a reason code), other statuses change nothing.
- camt.054 (notification on the creditor's account): a booked entry (BOOK) for one of our
  EndToEndIds without return information is money received, dated by its booking date; an
  entry with return information (RtrInf) or a reversal is a debit returned, with its code
  (AM04 insufficient funds, MD06 refund requested by the debtor, ...).

A paid debit marks its request paid; a returned one puts the request back to be collected
again (state RETURNED, with the code and its meaning in words). A report whose batch or
transaction is not ours is refused and listed, never dropped; each file is kept once
(SHA-256), so importing it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cer.audit.services import record
from cer.billing import bank_reports
from cer.collections import notices
from cer.collections.errors import CollectionError
from cer.collections.models import (
    BatchStatus,
    CollectionBatch,
    CollectionItem,
    CollectionReport,
    ItemStatus,
    Sequence,
)
from cer.collections.requests import mark_paid, mark_returned
from cer.communities.models import Community

# ISO 20022 reason codes of SEPA direct-debit R-transactions (EPC guidance on reason codes
# for SDD), in words; the transfer codes of billing complete the list.
DEBIT_REASON_TEXTS = {
    "AC04": gettext_lazy("account closed"),
    "AC06": gettext_lazy("account blocked, or blocked for direct debits by the debtor"),
    "AC13": gettext_lazy("the debtor account is a consumer account"),
    "AG01": gettext_lazy("direct debits forbidden on this account"),
    "AG02": gettext_lazy("invalid bank operation code"),
    "AM04": gettext_lazy("insufficient funds"),
    "AM05": gettext_lazy("duplicate collection"),
    "BE05": gettext_lazy("creditor identifier incorrect"),
    "FF05": gettext_lazy("direct-debit type incorrect"),
    "MD01": gettext_lazy("no valid mandate"),
    "MD02": gettext_lazy("mandate data missing or incorrect"),
    "MD06": gettext_lazy("refund requested by the debtor"),
    "MD07": gettext_lazy("debtor deceased"),
    "MS02": gettext_lazy("refused by the debtor"),
    "MS03": gettext_lazy("reason not specified"),
    "RC01": gettext_lazy("bank identifier (BIC) incorrect"),
    "RR01": gettext_lazy("debtor account or identification missing"),
    "RR02": gettext_lazy("debtor name or address missing"),
    "RR03": gettext_lazy("creditor name or address missing"),
    "RR04": gettext_lazy("regulatory reason"),
    "SL01": gettext_lazy("specific service of the debtor's bank (the debtor's instruction)"),
}


def reason_text(code: str, additional: str = "") -> str:
    """The meaning of a reason code in words, then the bank's own text."""
    known = str(DEBIT_REASON_TEXTS.get(code, "") or bank_reports.REASON_TEXTS.get(code, ""))
    return "; ".join(part for part in (known, additional.strip()) if part)[:300]


@dataclass
class ReportResult:
    report: CollectionReport
    matched: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    already: bool = False


def _booking_dates(content: bytes) -> dict[str, dt.date]:
    """Map each EndToEndId of a camt.054 to the booking date of its entry."""
    dates: dict[str, dt.date] = {}
    root = ET.fromstring(content)  # noqa: S314 (parse_report refused DOCTYPE and entities)
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]
    for entry in root.iter("Ntry"):
        text = entry.findtext("BookgDt/Dt") or (entry.findtext("BookgDt/DtTm") or "")[:10]
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            continue
        for ref in entry.iter("EndToEndId"):
            dates[(ref.text or "").strip()] = day
    return dates


def import_report(
    *,
    community: Community,
    file_name: str,
    content: bytes,
    actor: Any,
    now: dt.datetime,
) -> ReportResult:
    """Read a pain.002 or camt.054 and apply it to the community's collections.

    Raises CollectionError (field `file`) for a file that is not such a report.
    """
    try:
        parsed = bank_reports.parse_report(content)
    except bank_reports.BankReportError as error:
        raise CollectionError(str(error), field="file") from error
    digest = hashlib.sha256(content).hexdigest()
    existing = CollectionReport.objects.filter(community=community, sha256=digest).first()
    if existing is not None:
        return ReportResult(
            existing, existing.result.get("matched", []), existing.result.get("refused", []), True
        )
    dates = _booking_dates(content) if parsed.kind == bank_reports.CAMT054 else {}
    today = now.date()
    result: ReportResult
    with transaction.atomic():
        report = CollectionReport.objects.create(
            community=community,
            kind=parsed.kind,
            file_name=file_name[:200],
            sha256=digest,
            message_id=parsed.message_id[:35],
            imported_at=now,
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        result = ReportResult(report)
        for tx in parsed.transactions:
            outcome = _outcome(parsed.kind, tx)
            items, problem = _items_for(community, tx)
            row = {
                "end_to_end_id": tx.end_to_end_id,
                "original_message_id": tx.original_message_id,
                "status": tx.status,
                "reason_code": tx.reason_code,
                "reason": reason_text(tx.reason_code) if tx.reason_code else "",
            }
            if problem:
                result.refused.append({**row, "problem": problem})
                continue
            for item in items:
                applied = _apply(
                    item,
                    outcome,
                    tx.reason_code,
                    dates.get(tx.end_to_end_id, today),
                    actor,
                    now,
                )
                result.matched.append(
                    {**row, "end_to_end_id": item.end_to_end_id, "outcome": applied}
                )
        report.refused = bool(result.refused) and not result.matched
        report.result = {"matched": result.matched, "refused": result.refused}
        report.save(update_fields=["refused", "result"])
        record(
            actor=actor,
            code="collections.report.imported",
            now=now,
            target=report,
            community=community,
            changes={
                "kind": parsed.kind,
                "sha256": digest,
                "matched": len(result.matched),
                "refused": len(result.refused),
            },
        )
    return result


def _outcome(kind: str, tx: bank_reports.ReportTransaction) -> str:
    if tx.outcome == bank_reports.REJECTED:
        return ItemStatus.RETURNED
    if tx.outcome == bank_reports.SETTLED:
        return ItemStatus.PAID
    if kind == bank_reports.CAMT054 and tx.status == "BOOK" and not tx.reason_code:
        # A booked credit on the creditor's account for one of our debits: money received.
        return ItemStatus.PAID
    return ""


def _items_for(
    community: Community, tx: bank_reports.ReportTransaction
) -> tuple[list[CollectionItem], str]:
    """Find the debits a transaction speaks of, or say why it is refused."""
    batch = None
    if tx.original_message_id:
        batch = CollectionBatch.objects.filter(
            community=community, message_id=tx.original_message_id
        ).first()
        if batch is None:
            return [], _("no direct-debit batch of this community has the message id %(id)s") % {
                "id": tx.original_message_id
            }
    if not tx.end_to_end_id:
        if batch is None:
            return [], _("the transaction names neither a batch nor a debit")
        items = list(batch.items.filter(released_at__isnull=True))
    else:
        found = CollectionItem.objects.filter(
            batch__community=community, end_to_end_id=tx.end_to_end_id
        ).select_related("batch", "request", "mandate")
        if batch is not None:
            found = found.filter(batch=batch)
        item = found.first()
        if item is None:
            return [], _("no debit of this community has the EndToEndId %(id)s") % {
                "id": tx.end_to_end_id
            }
        items = [item]
    if any(i.batch.status == BatchStatus.VOID for i in items):
        return [], _("the batch was voided: its file should not have reached the bank")
    return items, ""


def _apply(
    item: CollectionItem,
    outcome: str,
    code: str,
    day: dt.date,
    actor: Any,
    now: dt.datetime,
) -> str:
    """Apply one outcome to a debit and its request; return what changed."""
    item = (
        CollectionItem.objects.select_for_update()
        .select_related("request", "mandate", "batch")
        .get(pk=item.pk)
    )
    if not outcome or item.status == outcome:
        return "unchanged"
    words = reason_text(code)
    item.status = outcome
    item.reason_code, item.reason = code[:4], words
    item.outcome_date, item.outcome_at = day, now
    if outcome == ItemStatus.RETURNED:
        item.released_at = now
    item.save(
        update_fields=[
            "status",
            "reason_code",
            "reason",
            "outcome_date",
            "outcome_at",
            "released_at",
        ]
    )
    if outcome == ItemStatus.PAID:
        mark_paid(item.request, paid_date=day, how=_("direct debit"), actor=actor, now=now)
    else:
        if item.sequence == Sequence.FIRST:
            # A first collection that did not go through: the next one is a first again.
            item.mandate.next_sequence = Sequence.FIRST
            item.mandate.save(update_fields=["next_sequence"])
        mark_returned(item.request, reason_code=code, reason=words, actor=actor, now=now)
        notices.returned(item, now=now)
    batch = item.batch
    if not batch.items.filter(status=ItemStatus.PENDING).exists():
        batch.status = BatchStatus.COMPLETED
        batch.save(update_fields=["status"])
    return outcome
