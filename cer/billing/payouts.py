"""SEPA payouts: each member's unpaid statement lines, netted, paid once in a pain.001 file.

What is payable (docs/payouts.md): the unpaid lines of a member's current statements of
every month up to the end of the period whose distribution comes from the latest version of
its month's settlement run, and that run is final. A member's amount is the sum of those
lines, positive and negative (a new settlement version may take back what was paid). The
file pays members whose sum reaches the community's minimum transfer; a smaller sum is
carried to the next payout and a negative one is a debt, netted against later shares: in
both cases the lines stay unpaid. A batch records which lines it pays, so a line is never
paid twice; the batch's later life (issued, sent, settled, rejected, voided) is in
payout_lifecycle.py.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError as SepaValidationError

from cer.audit.services import record
from cer.billing import target2
from cer.billing.models import (
    PaidLine,
    PayoutBatch,
    PayoutItem,
    PayoutItemStatus,
    PayoutSettings,
    PayoutStatus,
    Statement,
    StatementLine,
    StatementStatus,
)
from cer.communities.models import Configuration
from cer.core import formatting
from cer.core.validators import normalise_code, validate_iban
from cer.members.changes import mask_iban
from cer.members.models import Membership
from cer.settlement.models import RunStatus, SettlementRun

ROME = ZoneInfo("Europe/Rome")
DEFAULT_MINIMUM_TRANSFER_EUR = Decimal("1.00")


class PayoutError(Exception):
    """A payout that cannot be made; the message says why, `field` names the input at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PayoutAlreadyExists(PayoutError):
    """A line of this payout was paid by another batch meanwhile."""


class NothingToPay(PayoutError):
    """No member has an unpaid amount, at least the minimum, with a valid IBAN."""


class InvalidExecutionDate(PayoutError):
    """The execution date is in the past or not a TARGET2 business day."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="execution_date")


class MemberState:
    """Why a member is, or is not, in the next file (stable codes for pages and tests)."""

    PAY = "PAY"
    CARRIED = "CARRIED"
    OWED = "OWED"
    ZERO = "ZERO"
    NO_IBAN = "NO_IBAN"
    BAD_IBAN = "BAD_IBAN"


@dataclass(frozen=True)
class PayableMember:
    member_id: int
    name: str
    iban: str
    amount_eur: Decimal
    lines: list[int]
    problem: str
    state: str = MemberState.PAY
    # The reason a previous transfer of these lines was rejected, if one was.
    note: str = ""


@dataclass(frozen=True)
class HeldMonth:
    """A month whose statements cannot be paid yet, and why."""

    month: dt.date
    reason: str


@dataclass(frozen=True)
class PayoutPreview:
    members: list[PayableMember]
    held_months: list[HeldMonth]
    minimum_eur: Decimal
    to_pay: list[PayableMember] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "to_pay", [m for m in self.members if not m.problem])

    @property
    def total_eur(self) -> Decimal:
        return sum((m.amount_eur for m in self.to_pay), Decimal("0.00"))

    @property
    def owed(self) -> list[PayableMember]:
        return [m for m in self.members if m.state == MemberState.OWED]


def minimum_transfer(community_id: int) -> Decimal:
    """Return the community's minimum transfer [EUR] (1.00 until it sets another)."""
    stored = (
        PayoutSettings.objects.filter(community_id=community_id)
        .values_list("minimum_transfer_eur", flat=True)
        .first()
    )
    return stored if stored is not None else DEFAULT_MINIMUM_TRANSFER_EUR


def local_today(now: dt.datetime) -> dt.date:
    """Return the Europe/Rome calendar day of an aware instant."""
    return now.astimezone(ROME).date()


def default_execution_date(now: dt.datetime) -> dt.date:
    """Return the next TARGET2 business day after today (Europe/Rome)."""
    return target2.next_business_day(local_today(now))


def check_execution_date(execution_date: dt.date, *, now: dt.datetime) -> None:
    """Refuse an execution date in the past or on a TARGET2 closing day.

    Raises InvalidExecutionDate.
    """
    today = local_today(now)
    if execution_date < today:
        raise InvalidExecutionDate(
            _("The execution date %(date)s is in the past: choose %(next)s or later.")
            % {
                "date": formatting.day(execution_date),
                "next": formatting.day(default_execution_date(now)),
            }
        )
    if not target2.is_business_day(execution_date):
        raise InvalidExecutionDate(
            _(
                "%(date)s is not a TARGET2 business day (weekend or bank holiday): "
                "choose %(next)s or another working day."
            )
            % {
                "date": formatting.day(execution_date),
                "next": formatting.day(target2.next_business_day(execution_date)),
            }
        )


def _held_months(statements: list[Statement], configuration: Configuration) -> dict[dt.date, str]:
    """Return the months whose statements come from a run that is not final or not latest."""
    months = {s.month for s in statements}
    latest = dict(
        SettlementRun.objects.filter(configuration=configuration, month__in=months)
        .values("month")
        .annotate(latest=Max("version"))
        .values_list("month", "latest")
    )
    held: dict[dt.date, str] = {}
    for statement in statements:
        run = statement.distribution.run
        if run.version != latest.get(statement.month, run.version):
            held[statement.month] = _(
                "settlement version %(version)s is not the latest (%(latest)s): distribute "
                "the latest version first"
            ) % {"version": run.version, "latest": latest[statement.month]}
        elif run.status != RunStatus.FINAL:
            held[statement.month] = _(
                "settlement version %(version)s is not final: finalise it first"
            ) % {"version": run.version}
    return held


def preview(
    *,
    configuration: Configuration,
    period_end: dt.date,
    member_ids: list[int] | None = None,
) -> PayoutPreview:
    """Return what a payout up to `period_end` (exclusive) would pay, carry, hold and owe.

    `member_ids` narrows it to some members (a statement page asks about one).
    """
    wanted = Statement.objects.filter(
        configuration=configuration, month__lt=period_end, status=StatementStatus.CURRENT
    )
    if member_ids is not None:
        wanted = wanted.filter(member_id__in=member_ids)
    statements = list(
        wanted.select_related("member", "distribution__run").prefetch_related("lines")
    )
    held = _held_months(statements, configuration)
    minimum = minimum_transfer(configuration.community_id)
    paid = set(
        PaidLine.objects.filter(
            released_at__isnull=True, line__statement__configuration=configuration
        ).values_list("line_id", flat=True)
    )
    by_member: dict[int, list[StatementLine]] = defaultdict(list)
    members = {}
    for statement in statements:
        if statement.month in held:
            continue
        members[statement.member_id] = statement.member
        by_member[statement.member_id] += [
            line for line in statement.lines.all() if line.root_id not in paid
        ]
    rejections = _rejections(
        configuration, [line.root_id for v in by_member.values() for line in v]
    )
    # The IBAN this community was given, never one another community holds.
    ibans = Membership.objects.payout_ibans(
        community_id=configuration.community_id, member_ids=members
    )
    result = []
    for member_id, lines in sorted(by_member.items()):
        if not lines:
            continue
        amount = sum((line.amount_eur for line in lines), Decimal("0.00"))
        iban = normalise_code(ibans.get(member_id, ""))
        state, problem = _state(amount, iban, minimum)
        roots = [line.root_id for line in lines]
        result.append(
            PayableMember(
                member_id=member_id,
                name=members[member_id].display_name,
                iban=iban,
                amount_eur=amount,
                lines=roots,
                problem=problem,
                state=state,
                note=next((rejections[r] for r in roots if r in rejections), ""),
            )
        )
    return PayoutPreview(
        members=result,
        held_months=[HeldMonth(month, reason) for month, reason in sorted(held.items())],
        minimum_eur=minimum,
    )


def _state(amount: Decimal, iban: str, minimum: Decimal) -> tuple[str, str]:
    if amount < 0:
        return MemberState.OWED, _(
            "owes %(amount)s EUR to the community: netted against later payouts"
        ) % {"amount": -amount}
    if amount == 0:
        return MemberState.ZERO, _("nothing to pay (balance 0.00 EUR)")
    if amount < minimum:
        return MemberState.CARRIED, _(
            "carried to the next payout: below the minimum transfer of %(minimum)s EUR"
        ) % {"minimum": minimum}
    if not iban:
        return MemberState.NO_IBAN, _("no IBAN on file")
    try:
        validate_iban(iban)
    except ValidationError:
        return MemberState.BAD_IBAN, _("the IBAN on file is not valid")
    return MemberState.PAY, ""


def _rejections(configuration: Configuration, roots: list[int]) -> dict[int, str]:
    """Map unpaid lines to the reason the bank gave when their last transfer was rejected."""
    released = (
        PaidLine.objects.filter(
            line_id__in=roots,
            item__status=PayoutItemStatus.REJECTED,
            item__batch__configuration=configuration,
        )
        .select_related("item")
        .order_by("released_at", "pk")
    )
    return {
        paid.line_id: _("previous transfer rejected: %(reason)s")
        % {"reason": " ".join(filter(None, (paid.item.reason_code, paid.item.reason)))}
        for paid in released
    }


def payable(
    *, configuration: Configuration, period_start: dt.date, period_end: dt.date
) -> list[PayableMember]:
    """List each member's unpaid amount up to `period_end`, with the reason it is not paid."""
    return preview(configuration=configuration, period_end=period_end).members


class _Transfer(SepaTransfer):
    """sepaxml's transfer with our message id: it writes GrpHdr/MsgId while constructing."""

    def __init__(self, config: dict[str, Any], *, message_id: str) -> None:
        self._message_id = message_id
        super().__init__(config, clean=True)

    def _create_header(self) -> None:
        self.msg_id = self._message_id
        super()._create_header()


def file_message_id(xml: str) -> str:
    """Return the GrpHdr/MsgId written in a pain.001 file, whatever its namespace."""
    root = ET.fromstring(xml.encode())  # noqa: S314 (a file this platform generated)
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "MsgId":
            return element.text or ""
    raise PayoutError(_("the pain.001 file has no message id"))


def create_payout(
    *,
    configuration: Configuration,
    period_start: dt.date,
    period_end: dt.date,
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str,
    execution_date: dt.date | None = None,
    actor: Any,
    now: dt.datetime,
) -> PayoutBatch:
    """Prepare a draft payout batch and its pain.001 file for members' unpaid amounts.

    Members without a valid IBAN, below the minimum transfer or owing money are listed on
    the batch, not paid. The message id and each EndToEndId are new for every batch (its
    primary key and a counter), and the stored message id is read back from the file.
    `execution_date` defaults to the next TARGET2 business day. The file is validated against
    the pain.001.001.03 schema while it is generated; nothing is stored when it fails.
    Raises InvalidExecutionDate, NothingToPay, PayoutAlreadyExists, PayoutError.
    """
    try:
        validate_iban(debtor_iban)
    except ValidationError as error:
        raise PayoutError(_("the debit account IBAN is not valid"), field="debtor_iban") from error
    execution_date = execution_date or default_execution_date(now)
    check_execution_date(execution_date, now=now)
    plan = preview(configuration=configuration, period_end=period_end)
    if not plan.to_pay:
        raise NothingToPay(
            _("no member has an unpaid amount of at least %(minimum)s EUR with a valid IBAN")
            % {"minimum": plan.minimum_eur}
        )
    description = _remittance_text(configuration.community.name, period_start, period_end)
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
                total_eur=plan.total_eur,
                # A placeholder, unique until the file's own id replaces it below.
                message_id=f"NEW-{now:%Y%m%d%H%M%S%f}"[:35],
                xml="",
                without_iban=[
                    {
                        "member_id": m.member_id,
                        "name": m.name,
                        "amount_eur": str(m.amount_eur),
                        "reason": str(m.problem),
                    }
                    for m in plan.members
                    if m.problem
                ],
                created_at=now,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            end_to_end = {
                m.member_id: f"CERB{batch.pk}-{n}" for n, m in enumerate(plan.to_pay, start=1)
            }
            batch.xml = _pain001(batch, plan.to_pay, end_to_end, description, now)
            batch.message_id = file_message_id(batch.xml)
            batch.save(update_fields=["xml", "message_id"])
            items = PayoutItem.objects.bulk_create(
                PayoutItem(
                    batch=batch,
                    member_id=m.member_id,
                    name=m.name[:70],
                    iban=m.iban,
                    amount_eur=m.amount_eur,
                    end_to_end_id=end_to_end[m.member_id],
                )
                for m in plan.to_pay
            )
            PaidLine.objects.bulk_create(
                PaidLine(item=item, line_id=line_id)
                for item, member in zip(items, plan.to_pay, strict=True)
                for line_id in member.lines
            )
            record(
                actor=actor,
                code="billing.payout.created",
                now=now,
                target=batch,
                community=configuration.community,
                changes={
                    "total_eur": str(batch.total_eur),
                    "items": len(items),
                    "message_id": batch.message_id,
                    "without_iban": len(batch.without_iban),
                    "debtor_name": batch.debtor_name,
                    "debtor_iban": mask_iban(batch.debtor_iban),
                    "execution_date": execution_date.isoformat(),
                    "period": [period_start.isoformat(), period_end.isoformat()],
                    "held_months": [h.month.isoformat() for h in plan.held_months],
                },
            )
    except IntegrityError as error:
        raise PayoutAlreadyExists(
            _("a line of this payout was paid by another batch meanwhile: review and try again")
        ) from error
    return batch


def _pain001(
    batch: PayoutBatch,
    to_pay: list[PayableMember],
    end_to_end: dict[int, str],
    description: str,
    now: dt.datetime,
) -> str:
    """Return the pain.001.001.03 file of a batch; raise PayoutError when it is not valid."""
    transfer = _Transfer(
        {
            "name": batch.debtor_name[:70],
            "IBAN": batch.debtor_iban,
            "BIC": batch.debtor_bic,
            "batch": True,
            "currency": "EUR",
        },
        # Unique per batch (its primary key), dated so that a restored database that gives
        # out a primary key again still sends the bank a new id; SEPA allows 35 characters.
        message_id=f"CERB{batch.pk}-{now:%y%m%d%H%M%S}",
    )
    for member in to_pay:
        transfer.add_payment(
            {
                "name": member.name[:70],
                "IBAN": member.iban,
                "amount": int(member.amount_eur * 100),
                "execution_date": batch.execution_date,
                "description": description,
                "endtoend_id": end_to_end[member.member_id],
            }
        )
    try:
        return str(transfer.export(validate=True).decode())
    except SepaValidationError as error:
        raise PayoutError(str(error)) from error


@dataclass(frozen=True)
class StatementPayment:
    """Where a statement's money stands with payouts, in one sentence for its page."""

    state: str
    message: str


def statement_payment(statement: Statement) -> StatementPayment:
    """Say whether a current statement's lines are paid, to be paid, carried or owed."""
    roots = [line.root_id for line in statement.lines.all()]
    active = PaidLine.objects.filter(line_id__in=roots, released_at__isnull=True).select_related(
        "item__batch"
    )
    paid_roots = {p.line_id for p in active}
    if roots and set(roots) <= paid_roots:
        batches = sorted({p.item.batch.message_id for p in active})
        return StatementPayment(
            MemberState.PAY,
            _("Paid in the payout %(batches)s.") % {"batches": ", ".join(batches)},
        )
    if statement.status != StatementStatus.CURRENT:
        return StatementPayment("", "")
    # The member's whole balance: the next payout nets every unpaid month, not this one only.
    plan = preview(
        configuration=statement.configuration,
        period_end=dt.date.max,
        member_ids=[statement.member_id],
    )
    if statement.month in {h.month for h in plan.held_months}:
        return StatementPayment("HELD", _("Not payable yet: the month's settlement is not final."))
    mine = next((m for m in plan.members if m.member_id == statement.member_id), None)
    if mine is None:
        return StatementPayment("", "")
    messages = {
        MemberState.CARRIED: _(
            "Carried to the next payout: below the minimum transfer of %(minimum)s EUR "
            "(your balance is %(amount)s EUR)."
        ),
        MemberState.OWED: _(
            "You owe %(owed)s EUR to the community: it is netted against your next shares."
        ),
        MemberState.ZERO: _("Nothing to pay: the lines net to zero."),
        MemberState.NO_IBAN: _("To be paid once an IBAN is on file (%(amount)s EUR)."),
        MemberState.BAD_IBAN: _("To be paid once the IBAN on file is corrected (%(amount)s EUR)."),
        MemberState.PAY: _("To be paid in the next payout (%(amount)s EUR)."),
    }
    message = messages[mine.state] % {
        "minimum": plan.minimum_eur,
        "amount": mine.amount_eur,
        "owed": -mine.amount_eur,
    }
    if mine.note:
        message = f"{message} ({mine.note})"
    return StatementPayment(mine.state, message)


def payout_file(*, batch: PayoutBatch, actor: Any, now: dt.datetime) -> str:
    """Return the batch's pain.001 file and log who took it; the first download issues it.

    Once issued the file may have reached the bank: the batch can then only be voided by an
    explicit, audited action. Raises PayoutError for a voided batch.
    """
    with transaction.atomic():
        locked = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == PayoutStatus.VOID:
            raise PayoutError(_("this batch was voided: its file must not be sent"))
        if locked.status == PayoutStatus.DRAFT:
            locked.status = PayoutStatus.ISSUED
            locked.issued_at = now
            locked.save(update_fields=["status", "issued_at"])
            record(
                actor=actor,
                code="billing.payout.issued",
                now=now,
                target=locked,
                community=locked.configuration.community,
                changes={"status": [PayoutStatus.DRAFT, PayoutStatus.ISSUED]},
            )
        record(
            actor=actor,
            code="billing.payout.downloaded",
            now=now,
            target=locked,
            community=locked.configuration.community,
            changes={"items": locked.items.count(), "total_eur": str(locked.total_eur)},
        )
    batch.status, batch.issued_at = locked.status, locked.issued_at
    return locked.xml


def _remittance_text(community_name: str, period_start: dt.date, period_end: dt.date) -> str:
    """The transfers' remittance text: the community and the months, in words (in Italian).

    A member reads it on a bank statement: "CER Esempio giugno 2025" or "... gennaio
    2025 - marzo 2025"; at most 140 characters, as SEPA allows.
    """
    first = formatting.month(period_start, lang="it")
    last = formatting.month(period_end - dt.timedelta(days=1), lang="it")
    months = first if first == last else f"{first} - {last}"
    return f"{community_name[:60]} {months}"[:140]
