"""The disbursement phases of a granted PNRR file: advance, instalments, balance.

Each request lists the expense documents it relies on; an invoice is counted once, a cost
item is documented at most up to its amount, and all phases together stay within the grant.
The limits are cercalc.pnrr's (advance_limit_eur, documented_limit_eur). Web pages call
these; each write is atomic and audited with a `grants.disbursement.*` code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from cer.core import formatting
from cer.core.validators import validate_vat_number
from cer.grants import checks
from cer.grants.models import (
    ApplicationState,
    CostItem,
    DisbursementRequest,
    ExpenseDocument,
    GrantApplication,
    PhaseKind,
    PhaseState,
)
from cer.grants.services import audit, checked_file, local_day, parse_amount, refuse
from cercalc import pnrr


def _live(application: GrantApplication) -> Any:
    return application.disbursements.exclude(state=PhaseState.REJECTED)


def create_disbursement(
    *,
    application: GrantApplication,
    kind: str,
    requested_eur: Any,
    actor: Any,
    now: dt.datetime,
    guarantee_issuer: str = "",
    guarantee_reference: str = "",
    guarantee_amount_eur: Any = None,
    progress_report: UploadedFile | None = None,
    tip_contract_date: dt.date | None = None,
) -> DisbursementRequest:
    """Open a disbursement request in DRAFT on a GRANTED file.

    Raises GrantError for a file not granted, an unknown kind, a second advance or balance,
    a bad amount, or phases that together would ask more than the grant.
    """
    if application.state != ApplicationState.GRANTED:
        raise refuse("kind", _("Disbursements are requested once the grant is granted."))
    if kind not in PhaseKind.values:
        raise refuse("kind", _("Choose advance, intermediate instalment or balance."))
    requested = parse_amount(requested_eur, "requested_eur")
    assert requested is not None  # required: parse_amount raised otherwise
    guarantee = parse_amount(guarantee_amount_eur, "guarantee_amount_eur", required=False)
    if (
        kind in (PhaseKind.ADVANCE, PhaseKind.BALANCE)
        and _live(application).filter(kind=kind).exists()
    ):
        raise refuse("kind", _("The file already has this phase."))
    if _live(application).filter(kind=PhaseKind.BALANCE).exists():
        raise refuse("kind", _("The balance closes the file: no phase follows it."))
    _check_total(application, requested, exclude=None)
    report = checked_file(progress_report, "progress_report") if progress_report else None
    with transaction.atomic():
        phase = DisbursementRequest.objects.create(
            application=application,
            kind=kind,
            requested_eur=requested,
            guarantee_issuer=guarantee_issuer.strip(),
            guarantee_reference=guarantee_reference.strip(),
            guarantee_amount_eur=guarantee,
            tip_contract_date=tip_contract_date,
            created_at=now,
        )
        if report is not None:
            phase.progress_report.save(report.name or "report", report)
        audit(
            actor,
            "grants.disbursement.created",
            now,
            phase,
            {"kind": kind, "requested_eur": str(requested)},
        )
    return phase


def _check_total(application: GrantApplication, requested: Decimal, *, exclude: int | None) -> None:
    others = _live(application).exclude(pk=exclude).aggregate(total=Sum("requested_eur"))
    total = (others["total"] or Decimal(0)) + requested
    granted = application.granted_eur or Decimal(0)
    if total > granted:
        raise refuse(
            "requested_eur",
            _(
                "All phases together would ask %(total)s, more than the grant of %(granted)s "
                "(DM 414/2023 art. 10)."
            )
            % {"total": formatting.eur(total), "granted": formatting.eur(granted)},
        )


def add_expense_document(
    *,
    request: DisbursementRequest,
    cost_item: CostItem,
    values: Mapping[str, Any],
    upload: UploadedFile | None = None,
    actor: Any,
    now: dt.datetime,
) -> ExpenseDocument:
    """Attach an invoice and its proof of payment to a DRAFT request.

    `values`: invoice_number, sdi_id, supplier_vat, invoice_date, amount_eur,
    payment_reference, payment_date. Refused, naming the other request, when the same
    electronic invoice (SdI identifier, or number and supplier) is already in a request
    that was not rejected; refused when the cost item would be documented beyond its amount,
    is not claimed, or another public grant covers it (no double funding).
    """
    if request.state != PhaseState.DRAFT:
        raise refuse("request", _("Documents are added to a draft request only."))
    if request.kind == PhaseKind.ADVANCE:
        raise refuse("request", _("An advance relies on no expense document."))
    if cost_item.application_id != request.application_id:
        raise refuse("cost_item", _("A cost item of another application."))
    if not cost_item.claimed or cost_item.other_grants.exists():
        raise refuse(
            "cost_item",
            _("“%(item)s” is not claimed in the PNRR application or another grant covers it.")
            % {"item": cost_item.description},
        )
    cleaned = _document_values(values)
    duplicate = (
        ExpenseDocument.objects.exclude(request__state=PhaseState.REJECTED)
        .filter(sdi_id=cleaned["sdi_id"])
        .select_related("request")
        .first()
    ) or (
        ExpenseDocument.objects.exclude(request__state=PhaseState.REJECTED)
        .filter(invoice_number=cleaned["invoice_number"], supplier_vat=cleaned["supplier_vat"])
        .select_related("request")
        .first()
    )
    if duplicate is not None:
        raise refuse(
            "sdi_id",
            _(
                "Invoice %(number)s (SdI %(sdi)s) is already counted in %(other)s of "
                "%(plant)s: no document is counted twice."
            )
            % {
                "number": duplicate.invoice_number,
                "sdi": duplicate.sdi_id,
                "other": duplicate.request,
                "plant": duplicate.request.application.plant.name,
            },
        )
    documented = ExpenseDocument.objects.filter(cost_item=cost_item).exclude(
        request__state=PhaseState.REJECTED
    ).aggregate(total=Sum("amount_eur"))["total"] or Decimal(0)
    if documented + cleaned["amount_eur"] > cost_item.amount_eur:
        raise refuse(
            "amount_eur",
            _(
                "“%(item)s” would be documented for %(total)s, more than its %(amount)s: "
                "a cost is claimed once."
            )
            % {
                "item": cost_item.description,
                "total": formatting.eur(documented + cleaned["amount_eur"]),
                "amount": formatting.eur(cost_item.amount_eur),
            },
        )
    stored = checked_file(upload, "file") if upload is not None else None
    with transaction.atomic():
        document = ExpenseDocument(request=request, cost_item=cost_item, **cleaned)
        if upload is not None and stored is not None:
            document.original_name = (upload.name or "")[:200]
            document.file.save(stored.name or "invoice", stored, save=False)
        document.save()
        audit(
            actor,
            "grants.document.added",
            now,
            document,
            {
                "request": request.pk,
                "sdi_id": document.sdi_id,
                "amount_eur": str(document.amount_eur),
            },
        )
    return document


def _document_values(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name in ("invoice_number", "sdi_id", "payment_reference"):
        text = str(values.get(name) or "").strip()
        if not text:
            raise refuse(name, _("This field is required."))
        cleaned[name] = text
    vat = str(values.get("supplier_vat") or "").strip()
    try:
        validate_vat_number(vat)
    except Exception as error:  # a ValidationError with the user's message
        messages = getattr(error, "messages", [str(error)])
        raise refuse("supplier_vat", " ".join(messages)) from None
    cleaned["supplier_vat"] = vat
    for name in ("invoice_date", "payment_date"):
        day = values.get(name)
        if not isinstance(day, dt.date):
            raise refuse(name, _("Give a date."))
        cleaned[name] = day
    if cleaned["payment_date"] < cleaned["invoice_date"]:
        raise refuse("payment_date", _("The payment cannot precede the invoice."))
    cleaned["amount_eur"] = parse_amount(values.get("amount_eur"), "amount_eur")
    return cleaned


def send_disbursement(
    *, request: DisbursementRequest, actor: Any, now: dt.datetime
) -> DisbursementRequest:
    """Check a DRAFT request and record it as sent to GSE (irreversible).

    Advance: at most the advance share of the grant (cercalc.pnrr.advance_limit_eur).
    Instalment and balance: documents, and at most the grant share of their eligible amount
    (cercalc.pnrr.documented_limit_eur); an instalment needs its progress report, the
    balance the date the TIP contract was signed (REGULATION.md §8 [S]). All phases together
    stay within the grant. Raises GrantError naming the field and the rule.
    """
    if request.state != PhaseState.DRAFT:
        raise refuse("state", _("Only a draft request can be sent."))
    application = request.application
    today = local_day(now)
    params = checks.parameters()
    granted = application.granted_eur or Decimal(0)
    if request.kind == PhaseKind.ADVANCE:
        share = params.value_on("pnrr_advance_share", today, [])
        limit = pnrr.advance_limit_eur(grant_eur=granted, advance_share=share)
        rule = _("the advance is at most %(share)s of the grant (DM 127/2025, art. 10 [S])") % {
            "share": formatting.percent(share * 100, 0)
        }
    else:
        documented = request.documented_eur
        if documented == 0:
            raise refuse("documents", _("List the expense documents this request relies on."))
        if request.kind == PhaseKind.INTERMEDIATE and not request.progress_report:
            raise refuse(
                "progress_report", _("An intermediate instalment needs its progress report.")
            )
        if request.kind == PhaseKind.BALANCE and request.tip_contract_date is None:
            raise refuse(
                "tip_contract_date",
                _("The balance is paid once the TIP contract is signed (REGULATION.md §8 [S])."),
            )
        share = params.value_on("pnrr_grant_share", today, [])
        limit = pnrr.documented_limit_eur(documented_eur=documented, grant_share=share)
        rule = _(
            "a request asks at most %(share)s of the documented eligible costs, %(documented)s"
        ) % {"share": formatting.percent(share * 100, 0), "documented": formatting.eur(documented)}
    if request.requested_eur > limit:
        raise refuse(
            "requested_eur",
            _("%(requested)s is more than %(limit)s: %(rule)s.")
            % {
                "requested": formatting.eur(request.requested_eur),
                "limit": formatting.eur(limit),
                "rule": rule,
            },
        )
    _check_total(application, request.requested_eur, exclude=request.pk)
    with transaction.atomic():
        request.state = PhaseState.SENT
        request.sent_at = now
        request.save(update_fields=["state", "sent_at"])
        audit(
            actor,
            "grants.disbursement.sent",
            now,
            request,
            {
                "state": [PhaseState.DRAFT, PhaseState.SENT],
                "requested_eur": str(request.requested_eur),
            },
        )
    return request


def record_payment(
    *,
    request: DisbursementRequest,
    received_eur: Any,
    received_date: dt.date | None,
    actor: Any,
    now: dt.datetime,
) -> DisbursementRequest:
    """Record the amount GSE paid on a SENT request, and the date.

    Raises GrantError for a request not sent, a missing date, or more than was asked.
    """
    if request.state != PhaseState.SENT:
        raise refuse("state", _("Only a sent request is paid."))
    amount = parse_amount(received_eur, "received_eur")
    assert amount is not None
    if received_date is None:
        raise refuse("received_date", _("Give the date of the payment."))
    if amount > request.requested_eur:
        raise refuse(
            "received_eur",
            _("%(amount)s is more than the %(requested)s asked.")
            % {
                "amount": formatting.eur(amount),
                "requested": formatting.eur(request.requested_eur),
            },
        )
    with transaction.atomic():
        request.state = PhaseState.PAID
        request.received_eur = amount
        request.received_date = received_date
        request.save(update_fields=["state", "received_eur", "received_date"])
        audit(
            actor,
            "grants.disbursement.paid",
            now,
            request,
            {
                "state": [PhaseState.SENT, PhaseState.PAID],
                "received_eur": str(amount),
                "received_date": received_date.isoformat(),
            },
        )
    return request


def reject_disbursement(
    *, request: DisbursementRequest, reason: str, actor: Any, now: dt.datetime
) -> DisbursementRequest:
    """Record that GSE rejected a SENT request; its documents may then serve another one."""
    if request.state != PhaseState.SENT:
        raise refuse("state", _("Only a sent request is rejected."))
    if not reason.strip():
        raise refuse("rejection_reason", _("Say why the request was rejected."))
    with transaction.atomic():
        request.state = PhaseState.REJECTED
        request.rejection_reason = reason.strip()
        request.save(update_fields=["state", "rejection_reason"])
        audit(
            actor,
            "grants.disbursement.rejected",
            now,
            request,
            {"state": [PhaseState.SENT, PhaseState.REJECTED], "reason": request.rejection_reason},
        )
    return request


def received_total_eur(application: GrantApplication) -> Decimal:
    """Return what GSE has paid on the file so far [EUR]."""
    total = application.disbursements.filter(state=PhaseState.PAID).aggregate(
        total=Sum("received_eur")
    )["total"]
    return total or Decimal("0.00")
