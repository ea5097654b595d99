"""SEPA payouts: each member's unpaid statement lines paid once, in a pain.001 file.

A payout batch records which lines it pays, so a line is never paid twice; cancelling a
batch whose file was not sent makes its lines payable again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError as SepaValidationError

from cer.audit.services import record
from cer.billing.models import (
    PaidLine,
    PayoutBatch,
    PayoutItem,
    PayoutStatus,
    Statement,
    StatementLine,
    StatementStatus,
)
from cer.communities.models import Configuration
from cer.core.validators import normalise_code, validate_iban
from cer.members.changes import mask_iban
from cer.members.models import Membership


class PayoutError(Exception):
    """A payout that cannot be made; the message says why."""


class PayoutAlreadyExists(PayoutError):
    """A final payout batch exists for this configuration and period."""


class NothingToPay(PayoutError):
    """No member has an unpaid positive balance with a valid IBAN in the period."""


@dataclass(frozen=True)
class PayableMember:
    member_id: int
    name: str
    iban: str
    amount_eur: Decimal
    lines: list[int]
    problem: str


def payable(
    *, configuration: Configuration, period_start: dt.date, period_end: dt.date
) -> list[PayableMember]:
    """List each member's unpaid lines of current statements in the period, with problems."""
    statements = (
        Statement.objects.filter(
            configuration=configuration,
            month__gte=period_start,
            month__lt=period_end,
            status=StatementStatus.CURRENT,
        )
        .select_related("member")
        .prefetch_related("lines")
    )
    paid = set(
        PaidLine.objects.filter(
            line__statement__configuration=configuration,
            line__statement__month__gte=period_start,
            line__statement__month__lt=period_end,
        ).values_list("line_id", flat=True)
    )
    by_member: dict[int, list[StatementLine]] = defaultdict(list)
    members = {}
    for statement in statements:
        members[statement.member_id] = statement.member
        by_member[statement.member_id] += [
            line for line in statement.lines.all() if line.root_id not in paid
        ]
    # The IBAN this community was given, never one another community holds.
    ibans = Membership.objects.payout_ibans(
        community_id=configuration.community_id, member_ids=members
    )
    result = []
    for member_id, lines in sorted(by_member.items()):
        if not lines:
            continue
        member = members[member_id]
        amount = sum((line.amount_eur for line in lines), Decimal(0))
        iban = normalise_code(ibans.get(member_id, ""))
        problem = ""
        if amount <= 0:
            problem = _("nothing to pay (balance %(amount)s EUR)") % {"amount": amount}
        elif not iban:
            problem = _("no IBAN on file")
        else:
            try:
                validate_iban(iban)
            except ValidationError:
                problem = _("the IBAN on file is not valid")
        result.append(
            PayableMember(
                member_id=member_id,
                name=member.display_name,
                iban=iban,
                amount_eur=amount,
                lines=[line.root_id for line in lines],
                problem=problem,
            )
        )
    return result


def create_payout(
    *,
    configuration: Configuration,
    period_start: dt.date,
    period_end: dt.date,
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str,
    execution_date: dt.date,
    actor: Any,
    now: dt.datetime,
) -> PayoutBatch:
    """Record a payout batch and its pain.001 file for the period's unpaid shares.

    Members without a valid IBAN are listed on the batch, not paid and not skipped silently.
    The file is validated against the pain.001.001.03 schema while it is generated.
    Raises PayoutAlreadyExists, NothingToPay, PayoutError (an invalid file or account).
    """
    try:
        validate_iban(debtor_iban)
    except ValidationError as error:
        raise PayoutError(_("the debit account IBAN is not valid")) from error
    candidates = payable(
        configuration=configuration, period_start=period_start, period_end=period_end
    )
    to_pay = [c for c in candidates if not c.problem]
    if not to_pay:
        raise NothingToPay(_("no member has an unpaid amount with a valid IBAN"))
    message_id = f"CER{configuration.pk}-{period_start:%Y%m}-{now:%Y%m%d%H%M%S}"[:35]
    transfer = SepaTransfer(
        {
            "name": debtor_name[:70],
            "IBAN": normalise_code(debtor_iban),
            "BIC": normalise_code(debtor_bic),
            "batch": True,
            "currency": "EUR",
        },
        clean=True,
    )
    transfer.msg_id = message_id
    end_to_end = {}
    for candidate in to_pay:
        end_to_end[candidate.member_id] = f"CER-{period_start:%Y%m}-{candidate.member_id}"[:35]
        transfer.add_payment(
            {
                "name": candidate.name[:70],
                "IBAN": candidate.iban,
                "amount": int(candidate.amount_eur * 100),
                "execution_date": execution_date,
                "description": (
                    f"{configuration.community.name[:60]} {period_start:%m/%Y}-"
                    f"{period_end - dt.timedelta(days=1):%m/%Y}"
                )[:140],
                "endtoend_id": end_to_end[candidate.member_id],
            }
        )
    try:
        xml = transfer.export(validate=True).decode()
    except SepaValidationError as error:
        raise PayoutError(str(error)) from error
    total = sum((c.amount_eur for c in to_pay), Decimal(0))
    try:
        with transaction.atomic():
            batch = PayoutBatch.objects.create(
                configuration=configuration,
                period_start=period_start,
                period_end=period_end,
                debtor_name=debtor_name,
                debtor_iban=normalise_code(debtor_iban),
                debtor_bic=normalise_code(debtor_bic),
                execution_date=execution_date,
                total_eur=total,
                message_id=message_id,
                xml=xml,
                without_iban=[
                    {
                        "member_id": c.member_id,
                        "name": c.name,
                        "amount_eur": str(c.amount_eur),
                        "reason": str(c.problem),
                    }
                    for c in candidates
                    if c.problem
                ],
                created_at=now,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            items = PayoutItem.objects.bulk_create(
                PayoutItem(
                    batch=batch,
                    member_id=c.member_id,
                    name=c.name[:70],
                    iban=c.iban,
                    amount_eur=c.amount_eur,
                    end_to_end_id=end_to_end[c.member_id],
                )
                for c in to_pay
            )
            PaidLine.objects.bulk_create(
                PaidLine(item=item, line_id=line_id)
                for item, candidate in zip(items, to_pay, strict=True)
                for line_id in candidate.lines
            )
            record(
                actor=actor,
                code="billing.payout.created",
                now=now,
                target=batch,
                community=configuration.community,
                changes={
                    "total_eur": str(total),
                    "items": len(items),
                    "without_iban": len(batch.without_iban),
                    "debtor_name": batch.debtor_name,
                    "debtor_iban": mask_iban(batch.debtor_iban),
                    "period": [period_start.isoformat(), period_end.isoformat()],
                },
            )
    except IntegrityError as error:
        raise PayoutAlreadyExists(
            _("a payout for this period exists already, or a line was paid already")
        ) from error
    return batch


def payout_file(*, batch: PayoutBatch, actor: Any, now: dt.datetime) -> str:
    """Return the batch's pain.001 file and log who took it: it holds every member's IBAN."""
    record(
        actor=actor,
        code="billing.payout.downloaded",
        now=now,
        target=batch,
        community=batch.configuration.community,
        changes={"items": batch.items.count(), "total_eur": str(batch.total_eur)},
    )
    return batch.xml


def cancel_payout(*, batch: PayoutBatch, actor: Any, now: dt.datetime) -> PayoutBatch:
    """Cancel a batch whose file was not sent to the bank: its lines become payable again."""
    with transaction.atomic():
        locked = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != PayoutStatus.FINAL:
            raise PayoutError(_("the batch is cancelled already"))
        PaidLine.objects.filter(item__batch=locked).delete()
        locked.status = PayoutStatus.CANCELLED
        locked.save(update_fields=["status"])
        record(
            actor=actor,
            code="billing.payout.cancelled",
            now=now,
            target=locked,
            community=locked.configuration.community,
        )
    return locked
