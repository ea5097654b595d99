"""The life of a payout batch after it is prepared, and the import of the bank's reports.

    DRAFT --first download--> ISSUED --recorded by a person, with date--> SENT
    SENT --each transfer settled or rejected--> COMPLETED
    DRAFT or ISSUED --confirmed, audited, with a reason--> VOID (its lines are to pay again)

A rejected transfer (closed account, wrong IBAN) releases its lines, which the next batch
pays again with a new EndToEndId; a settled transfer may still come back as a return (a
rejection after settlement). Every change is audited. Bank status reports (pain.002,
camt.054, read by bank_reports.py) are matched by EndToEndId; what does not match is
listed, never dropped, and each file is kept (name, SHA-256, who, when, what it matched)
so that importing it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.billing import bank_reports, notices
from cer.billing.models import (
    BankReport,
    PaidLine,
    PayoutBatch,
    PayoutItem,
    PayoutItemStatus,
    PayoutSettings,
    PayoutStatus,
)
from cer.billing.payouts import PayoutError, local_today
from cer.communities.models import Community, Configuration
from cer.core import formatting

_OUTCOME_STATES = {
    bank_reports.SETTLED: PayoutItemStatus.SETTLED,
    bank_reports.REJECTED: PayoutItemStatus.REJECTED,
}


def set_minimum_transfer(
    *, community: Community, amount_eur: Decimal | str, actor: Any, now: dt.datetime
) -> PayoutSettings:
    """Set the smallest amount the community pays by transfer [EUR]; smaller ones are carried.

    Raises PayoutError (field `minimum_transfer_eur`) for an amount below 0.01 EUR or with
    more than two decimals.
    """
    try:
        amount = Decimal(str(amount_eur))
    except InvalidOperation as error:
        raise PayoutError(_("not an amount"), field="minimum_transfer_eur") from error
    if (
        not amount.is_finite()
        or amount < Decimal("0.01")
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise PayoutError(
            _("the minimum transfer must be at least 0.01 EUR, with at most two decimals"),
            field="minimum_transfer_eur",
        )
    with transaction.atomic():
        settings, _created = PayoutSettings.objects.select_for_update().get_or_create(
            community=community
        )
        before = settings.minimum_transfer_eur
        settings.minimum_transfer_eur = amount
        settings.updated_at = now
        settings.save(update_fields=["minimum_transfer_eur", "updated_at"])
        record(
            actor=actor,
            code="billing.payout_settings.changed",
            now=now,
            target=settings,
            community=community,
            changes={"minimum_transfer_eur": [str(before), str(amount)]},
        )
    return settings


def record_sent(
    *, batch: PayoutBatch, sent_date: dt.date, actor: Any, now: dt.datetime
) -> PayoutBatch:
    """Record that a person sent the batch's file to the bank on `sent_date`.

    Raises PayoutError: the file was not issued, or the date is in the future or before the
    file was issued (field `sent_date`).
    """
    with transaction.atomic():
        locked = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != PayoutStatus.ISSUED:
            raise PayoutError(
                _("only a batch whose file was issued can be recorded as sent (it is %(s)s)")
                % {"s": locked.get_status_display()}
            )
        if sent_date > local_today(now):
            raise PayoutError(_("the date it was sent cannot be in the future"), field="sent_date")
        if locked.issued_at and sent_date < local_today(locked.issued_at):
            raise PayoutError(
                _("the file was issued on %(date)s: it cannot have been sent before")
                % {"date": formatting.day(local_today(locked.issued_at))},
                field="sent_date",
            )
        locked.status = PayoutStatus.SENT
        locked.sent_date = sent_date
        locked.sent_recorded_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.save(update_fields=["status", "sent_date", "sent_recorded_by"])
        record(
            actor=actor,
            code="billing.payout.sent",
            now=now,
            target=locked,
            community=locked.configuration.community,
            changes={
                "status": [PayoutStatus.ISSUED, PayoutStatus.SENT],
                "sent_date": sent_date.isoformat(),
            },
        )
        notices.payout_sent(locked, now=now)
    return locked


def void_payout(*, batch: PayoutBatch, reason: str, actor: Any, now: dt.datetime) -> PayoutBatch:
    """Void a batch not sent to the bank: its file must not be used, its lines are to pay again.

    A re-issue is a new batch, with a new message id and new EndToEndIds. Raises PayoutError:
    no reason (field `reason`), or the batch was sent or voided already.
    """
    reason = reason.strip()
    if not reason:
        raise PayoutError(_("say why the batch is voided"), field="reason")
    with transaction.atomic():
        locked = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status not in (PayoutStatus.DRAFT, PayoutStatus.ISSUED):
            raise PayoutError(
                _(
                    "a batch that is %(status)s cannot be voided: record each transfer's "
                    "outcome from the bank's report instead"
                )
                % {"status": locked.get_status_display()}
            )
        before = locked.status
        released = PaidLine.objects.filter(item__batch=locked, released_at__isnull=True).update(
            released_at=now
        )
        locked.status = PayoutStatus.VOID
        locked.voided_at = now
        locked.void_reason = reason[:300]
        locked.save(update_fields=["status", "voided_at", "void_reason"])
        record(
            actor=actor,
            code="billing.payout.voided",
            now=now,
            target=locked,
            community=locked.configuration.community,
            changes={
                "status": [before, PayoutStatus.VOID],
                "reason": locked.void_reason,
                "message_id": locked.message_id,
                "total_eur": str(locked.total_eur),
                "lines_released": released,
            },
        )
    return locked


def record_outcome(
    *,
    item: PayoutItem,
    outcome: str,
    reason_code: str = "",
    reason: str = "",
    actor: Any,
    now: dt.datetime,
    source: str = "",
) -> bool:
    """Record a transfer settled or rejected; a rejection makes its lines payable again.

    `outcome` is PayoutItemStatus.SETTLED or REJECTED; `source` names the bank report, empty
    when a person records it. Returns whether anything changed. Raises PayoutError for a
    transfer of a voided or draft batch, or one rejected already and now said settled.
    """
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().get(pk=item.batch_id)
        locked = PayoutItem.objects.select_for_update().get(pk=item.pk)
        changed = _apply(batch, locked, outcome, reason_code, reason, actor, now, source)
        _close_if_done(batch, actor, now)
    return changed


def _apply(
    batch: PayoutBatch,
    item: PayoutItem,
    outcome: str,
    reason_code: str,
    reason: str,
    actor: Any,
    now: dt.datetime,
    source: str,
) -> bool:
    if outcome not in (PayoutItemStatus.SETTLED, PayoutItemStatus.REJECTED):
        raise PayoutError(_("unknown outcome %(o)s") % {"o": outcome}, field="outcome")
    if batch.status in (PayoutStatus.DRAFT, PayoutStatus.VOID):
        raise PayoutError(
            _("the batch is %(status)s: its transfers cannot have an outcome")
            % {"status": batch.get_status_display()}
        )
    if item.status == outcome:
        return False
    if item.status == PayoutItemStatus.REJECTED:
        # Its lines may be in a newer batch already: calling it settled would pay them twice.
        raise PayoutError(_("this transfer was rejected already; its lines are to pay again"))
    if batch.status == PayoutStatus.ISSUED:
        # The bank answered: the file reached it, whoever forgot to record the sending.
        batch.status = PayoutStatus.SENT
        batch.sent_date = local_today(now)
        batch.save(update_fields=["status", "sent_date"])
        record(
            actor=actor,
            code="billing.payout.sent",
            now=now,
            target=batch,
            community=batch.configuration.community,
            changes={"status": [PayoutStatus.ISSUED, PayoutStatus.SENT], "source": source},
        )
        notices.payout_sent(batch, now=now)
    before = item.status
    item.status = outcome
    item.reason_code = reason_code[:4]
    item.reason = reason[:300]
    item.outcome_at = now
    item.save(update_fields=["status", "reason_code", "reason", "outcome_at"])
    if outcome == PayoutItemStatus.REJECTED:
        PaidLine.objects.filter(item=item, released_at__isnull=True).update(released_at=now)
    record(
        actor=actor,
        code=f"billing.payout.transfer_{outcome.lower()}",
        now=now,
        target=batch,
        community=batch.configuration.community,
        changes={
            "end_to_end_id": item.end_to_end_id,
            "status": [before, outcome],
            "amount_eur": str(item.amount_eur),
            "reason_code": item.reason_code,
            "reason": item.reason,
            "source": source,
        },
    )
    return True


def _close_if_done(batch: PayoutBatch, actor: Any, now: dt.datetime) -> None:
    if batch.status != PayoutStatus.SENT:
        return
    if batch.items.filter(status=PayoutItemStatus.PENDING).exists():
        return
    batch.status = PayoutStatus.COMPLETED
    batch.save(update_fields=["status"])
    record(
        actor=actor,
        code="billing.payout.completed",
        now=now,
        target=batch,
        community=batch.configuration.community,
        changes={"status": [PayoutStatus.SENT, PayoutStatus.COMPLETED]},
    )


@dataclass(frozen=True)
class ReportImport:
    report: BankReport
    duplicate: bool


def import_bank_report(
    *,
    configuration: Configuration,
    file_name: str,
    content: bytes,
    actor: Any,
    now: dt.datetime,
) -> ReportImport:
    """Import a pain.002 or camt.054 report: settle or reject the transfers it names.

    The same file imported again changes nothing (`duplicate`). A pain.002 about a message
    that is not one of this configuration's batches is refused and kept as refused; every
    transaction that matches no transfer, or whose amount differs, is listed in the result.
    Raises bank_reports.BankReportError for a file that cannot be read (nothing stored).
    """
    digest = hashlib.sha256(content).hexdigest()
    existing = BankReport.objects.filter(configuration=configuration, sha256=digest).first()
    if existing is not None:
        return ReportImport(existing, duplicate=True)
    parsed = bank_reports.parse_report(content)
    with transaction.atomic():
        result = _match(configuration, parsed, actor, now, source=file_name[:200])
        report = BankReport.objects.create(
            configuration=configuration,
            kind=parsed.kind,
            file_name=file_name[:200],
            sha256=digest,
            message_id=parsed.message_id[:35],
            refused=bool(result["refused"]),
            result=result,
            imported_at=now,
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record(
            actor=actor,
            code="billing.bank_report.imported",
            now=now,
            target=report,
            community=configuration.community,
            changes={
                "file_name": report.file_name,
                "sha256": digest,
                "kind": parsed.kind,
                "matched": len(result["matched"]),
                "unmatched": len(result["unmatched"]),
                "refused": len(result["refused"]),
            },
        )
    return ReportImport(report, duplicate=False)


def _row(tx: bank_reports.ReportTransaction, **extra: Any) -> dict[str, Any]:
    return {
        "end_to_end_id": tx.end_to_end_id,
        "status": tx.status,
        "reason_code": tx.reason_code,
        "reason": tx.reason,
        "amount_eur": str(tx.amount_eur) if tx.amount_eur is not None else "",
        **extra,
    }


def _match(
    configuration: Configuration,
    parsed: bank_reports.ParsedReport,
    actor: Any,
    now: dt.datetime,
    source: str,
) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {"matched": [], "unmatched": [], "refused": []}
    batches = PayoutBatch.objects.select_for_update().filter(configuration=configuration)
    if parsed.kind == bank_reports.PAIN002:
        by_message = {
            b.message_id: b for b in batches.filter(message_id__in=parsed.original_message_ids)
        }
        unknown = [m for m in parsed.original_message_ids if m not in by_message]
        if unknown:
            result["refused"] = [
                {"original_message_id": m, "reason": _("not a payout batch of this configuration")}
                for m in unknown
            ]
            result["unmatched"] = [_row(tx, why=_("report refused")) for tx in parsed.transactions]
            return result
        candidates = list(PayoutItem.objects.filter(batch__in=list(by_message.values())))
    else:
        ids = [tx.end_to_end_id for tx in parsed.transactions if tx.end_to_end_id]
        candidates = list(
            PayoutItem.objects.filter(batch__configuration=configuration, end_to_end_id__in=ids)
        )
    touched: dict[int, PayoutBatch] = {}
    for tx in parsed.transactions:
        whole = parsed.kind == bank_reports.PAIN002 and not tx.end_to_end_id
        items = _items_for(tx, candidates) if whole or tx.end_to_end_id else []
        if not items:
            result["unmatched"].append(_row(tx, why=_("no transfer with this EndToEndId")))
            continue
        for item in items:
            _apply_one(item, tx, result, touched, actor, now, source)
    for batch in touched.values():
        _close_if_done(batch, actor, now)
    return result


def _items_for(
    tx: bank_reports.ReportTransaction, candidates: list[PayoutItem]
) -> list[PayoutItem]:
    if not tx.end_to_end_id:
        # A status for the whole original message: every transfer still waiting for one.
        return [i for i in candidates if i.status == PayoutItemStatus.PENDING]
    found = [i for i in candidates if i.end_to_end_id == tx.end_to_end_id]
    # Batches made before EndToEndIds were unique may share one: the newest live one wins.
    return sorted(found, key=lambda i: i.batch_id)[-1:]


def _apply_one(
    item: PayoutItem,
    tx: bank_reports.ReportTransaction,
    result: dict[str, list[dict[str, Any]]],
    touched: dict[int, PayoutBatch],
    actor: Any,
    now: dt.datetime,
    source: str,
) -> None:
    batch = touched.get(item.batch_id) or PayoutBatch.objects.select_for_update().get(
        pk=item.batch_id
    )
    where = {"batch": batch.message_id, "member": item.name, "end_to_end_id": item.end_to_end_id}
    if batch.status == PayoutStatus.VOID:
        why = _("the transfer belongs to a voided batch: check with the bank it was not paid")
        result["unmatched"].append(_row(tx, why=why, **where))
        return
    if tx.amount_eur is not None and tx.amount_eur != item.amount_eur:
        why = _("the amount differs: %(report)s in the report, %(ours)s in the batch") % {
            "report": tx.amount_eur,
            "ours": item.amount_eur,
        }
        result["unmatched"].append(_row(tx, why=why, **where))
        return
    outcome = _OUTCOME_STATES.get(tx.outcome)
    if outcome is None:
        result["matched"].append(_row(tx, change="", **where))
        return
    try:
        changed = _apply(batch, item, outcome, tx.reason_code, tx.reason, actor, now, source)
    except PayoutError as error:
        result["unmatched"].append(_row(tx, why=str(error), **where))
        return
    touched[batch.pk] = batch
    result["matched"].append(_row(tx, change=outcome if changed else "", **where))
