"""Statements (issued, corrected as new versions), disputes and SEPA payouts.

A statement is never edited: a new settlement version or a dispute resolved in the member's
favour issues a new version that carries the old lines (keeping their origin) and adds an
adjustment line, and the old version is kept as superseded. A payout pays each line once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError as SepaValidationError

from cer.audit.services import record
from cer.billing.models import (
    Dispute,
    DisputeEvent,
    DisputeState,
    LineKind,
    PaidLine,
    PayoutBatch,
    PayoutItem,
    PayoutStatus,
    Statement,
    StatementLine,
    StatementStatus,
)
from cer.communities.models import Configuration
from cer.communities.permissions import BACK_OFFICE_GROUP, MANAGER_ROLES
from cer.core.validators import normalise_code, validate_iban
from cer.distribution.models import Distribution
from cer.members.changes import mask_iban
from cer.members.models import Membership

logger = logging.getLogger(__name__)


class DisputeError(Exception):
    """A dispute step that is not allowed in the dispute's state."""


class PayoutError(Exception):
    """A payout that cannot be made; the message says why."""


class PayoutAlreadyExists(PayoutError):
    """A final payout batch exists for this configuration and period."""


class NothingToPay(PayoutError):
    """No member has an unpaid positive balance with a valid IBAN in the period."""


# Statements -----------------------------------------------------------------------------


def issue_statements(*, distribution: Distribution, now: dt.datetime) -> list[Statement]:
    """Issue each member's statement for the distribution's month (a new version if needed).

    The share line is the share before the 55 %/45 % correction; a correction line follows
    when there was one (docs/algorithms/distribution.md, step 6).
    """
    run = distribution.run
    current = {
        s.member_id: s
        for s in Statement.objects.filter(
            configuration_id=run.configuration_id, month=run.month, status=StatementStatus.CURRENT
        ).prefetch_related("lines")
    }
    shares = list(distribution.shares.all())
    names = _display_names([share.member_id for share in shares])
    Statement.objects.filter(pk__in=[s.pk for s in current.values()]).update(
        status=StatementStatus.SUPERSEDED
    )
    statements = []
    for share in shares:
        previous = current.get(share.member_id)
        statements.append(
            Statement(
                member_id=share.member_id,
                configuration_id=run.configuration_id,
                month=run.month,
                version=previous.version + 1 if previous else 1,
                distribution=distribution,
                previous=previous,
                reason=_("Settlement version %(version)s") % {"version": run.version}
                if previous
                else "",
                amount_eur=share.amount_eur,
                provisional=run.provisional,
                member_name=names.get(share.member_id, ""),
                created_at=now,
            )
        )
    Statement.objects.bulk_create(statements, batch_size=1000)
    lines: list[StatementLine] = []
    for statement, share in zip(statements, shares, strict=True):
        previous = current.get(share.member_id)
        if previous is not None:
            carried = _carried(previous, statement)
            lines += carried
            delta = share.amount_eur - previous.amount_eur
            if delta:
                lines.append(
                    StatementLine(
                        statement=statement,
                        position=max((line.position for line in carried), default=0) + 1,
                        kind=LineKind.ADJUSTMENT,
                        description=_("Change after settlement version %(version)s")
                        % {"version": run.version},
                        amount_eur=delta,
                    )
                )
            continue
        base = share.amount_eur - share.correction_eur
        lines.append(
            StatementLine(
                statement=statement,
                position=1,
                kind=LineKind.SHARE,
                description=_("Your share of %(month)s") % {"month": f"{run.month:%m/%Y}"},
                amount_eur=base,
            )
        )
        if share.correction_eur:
            lines.append(
                StatementLine(
                    statement=statement,
                    position=2,
                    kind=LineKind.CORRECTION,
                    description=_("Correction for the 55 %/45 % rule"),
                    amount_eur=share.correction_eur,
                )
            )
    StatementLine.objects.bulk_create(lines, batch_size=2000)
    return statements


def _display_names(member_ids: list[int]) -> dict[int, str]:
    """Return the members' display names without reading (and decrypting) other fields."""
    from cer.members.models import Member

    fields = ("kind", "first_name", "last_name", "company_name")
    return {
        member.pk: member.display_name
        for member in Member.objects.filter(pk__in=member_ids).only(*fields)
    }


def _carried(previous: Statement, statement: Statement) -> list[StatementLine]:
    return [
        StatementLine(
            statement=statement,
            position=line.position,
            kind=line.kind,
            description=line.description,
            amount_eur=line.amount_eur,
            origin_id=line.origin_id or line.pk,
        )
        for line in previous.lines.all()
    ]


def correct_statement(
    *, statement: Statement, amount_eur: Decimal, description: str, now: dt.datetime
) -> Statement:
    """Issue a new version of a current statement with one adjustment line [EUR]."""
    with transaction.atomic():
        locked = Statement.objects.select_for_update().get(pk=statement.pk)
        if locked.status != StatementStatus.CURRENT:
            raise DisputeError("only the current version of a statement can be corrected")
        locked.status = StatementStatus.SUPERSEDED
        locked.save(update_fields=["status"])
        new = Statement.objects.create(
            member_id=locked.member_id,
            configuration_id=locked.configuration_id,
            month=locked.month,
            version=locked.version + 1,
            distribution_id=locked.distribution_id,
            previous=locked,
            reason=description,
            amount_eur=locked.amount_eur + amount_eur,
            provisional=locked.provisional,
            member_name=locked.member_name,
            created_at=now,
        )
        lines = _carried(locked, new)
        lines.append(
            StatementLine(
                statement=new,
                position=max((line.position for line in lines), default=0) + 1,
                kind=LineKind.ADJUSTMENT,
                description=description,
                amount_eur=amount_eur,
            )
        )
        StatementLine.objects.bulk_create(lines)
    return new


# Disputes -------------------------------------------------------------------------------


def open_dispute(*, line: StatementLine, actor: Any, message: str, now: dt.datetime) -> Dispute:
    """Let the member contest a line of their current statement; tell the managers."""
    statement = line.statement
    if statement.status != StatementStatus.CURRENT:
        raise DisputeError("only lines of the current statement can be contested")
    if not message.strip():
        raise DisputeError("write what you contest")
    with transaction.atomic():
        dispute = Dispute.objects.create(
            line=line, member_id=statement.member_id, message=message, opened_at=now
        )
        _event(dispute, actor, "", DisputeState.OPEN, message, now)
        record(
            actor=actor,
            code="billing.dispute.opened",
            now=now,
            target=dispute,
            community=statement.configuration.community,
        )
        transaction.on_commit(lambda: _notify(dispute.pk, _("A statement line was contested")))
    return dispute


def dispute_parties(dispute: Dispute) -> set[int]:
    """Return the ids of the users a dispute opposes: the member it concerns and its opener."""
    opener = (
        dispute.events.filter(from_state="")
        .order_by("at", "pk")
        .values_list("actor_id", flat=True)
        .first()
    )
    return {pk for pk in (dispute.member.user_id, opener) if pk is not None}


def eligible_mediators(dispute: Dispute, *, today: dt.date) -> QuerySet[User]:
    """Return who may be invited to mediate: the community's managers on `today` and the
    platform's back office, never a party to the dispute.

    A closed list, shown to whoever escalates: typing a username would tell them whether
    an account by that name exists anywhere on the platform.
    """
    community_id = dispute.line.statement.configuration.community_id
    managers = (
        Membership.objects.active_on(today)
        .filter(community_id=community_id, role__in=MANAGER_ROLES)
        .values("member__user_id")
    )
    return (
        User.objects.filter(Q(pk__in=managers) | Q(groups__name=BACK_OFFICE_GROUP), is_active=True)
        .exclude(pk__in=dispute_parties(dispute))
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


_ALLOWED = {
    "answer": ({DisputeState.OPEN, DisputeState.ESCALATED}, DisputeState.ANSWERED),
    "escalate": ({DisputeState.OPEN, DisputeState.ANSWERED}, DisputeState.ESCALATED),
    "reopen": ({DisputeState.ANSWERED}, DisputeState.OPEN),
    "resolve": ({DisputeState.OPEN, DisputeState.ANSWERED, DisputeState.ESCALATED}, None),
    "reject": (
        {DisputeState.OPEN, DisputeState.ANSWERED, DisputeState.ESCALATED},
        DisputeState.REJECTED,
    ),
}


def act_on_dispute(
    *,
    dispute: Dispute,
    action: str,
    actor: Any,
    message: str,
    now: dt.datetime,
    mediator: Any = None,
    amount_eur: Decimal | None = None,
) -> Dispute:
    """Move a dispute on: answer, escalate (inviting a mediator), reopen, resolve, reject.

    Resolving with a non-zero `amount_eur` is a decision in the member's favour: a corrected
    statement version is issued with that adjustment, the old version kept.
    Raises DisputeError for a step the dispute's state does not allow, or for a mediator
    who is a party to the dispute.
    """
    if action not in _ALLOWED:
        raise DisputeError(f"unknown action {action}")
    allowed_from, target = _ALLOWED[action]
    with transaction.atomic():
        locked = (
            Dispute.objects.select_for_update().select_related("line__statement").get(pk=dispute.pk)
        )
        if locked.state not in allowed_from:
            raise DisputeError(f"cannot {action} a dispute that is {locked.state.lower()}")
        before = locked.state
        fields = ["state"]
        if action == "escalate":
            if mediator is None:
                raise DisputeError("choose the mediator to invite")
            if mediator.pk in dispute_parties(locked):
                raise DisputeError(_("mediator: a party to the dispute cannot be its mediator"))
            locked.mediator = mediator
            fields.append("mediator")
        if action == "resolve":
            target = DisputeState.RESOLVED
            if amount_eur:
                statement = _current_version(locked.line.statement)
                locked.corrected_statement = correct_statement(
                    statement=statement,
                    amount_eur=amount_eur,
                    description=_("Correction after dispute no. %(id)s") % {"id": locked.pk},
                    now=now,
                )
                fields.append("corrected_statement")
        assert target is not None
        locked.state = target
        locked.save(update_fields=fields)
        _event(locked, actor, before, target, message, now)
        record(
            actor=actor,
            code=f"billing.dispute.{target.lower()}",
            now=now,
            target=locked,
            community=locked.line.statement.configuration.community,
            changes={"state": [before, target], "amount_eur": str(amount_eur or 0)},
        )
        transaction.on_commit(
            lambda: _notify(locked.pk, _("Dispute update: %(state)s") % {"state": target.label})
        )
    return locked


def _current_version(statement: Statement) -> Statement:
    return Statement.objects.get(
        member_id=statement.member_id,
        configuration_id=statement.configuration_id,
        month=statement.month,
        status=StatementStatus.CURRENT,
    )


def _event(
    dispute: Dispute, actor: Any, before: str, after: str, message: str, now: dt.datetime
) -> None:
    DisputeEvent.objects.create(
        dispute=dispute,
        at=now,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_state=before,
        to_state=after,
        message=message,
    )


def dispute_recipients(dispute: Dispute) -> list[str]:
    """The member, the community's managers and the mediator, by email."""
    community_id = dispute.line.statement.configuration.community_id
    day = dispute.opened_at.date()
    managers = Membership.objects.active_on(day).filter(
        community_id=community_id, role__in=MANAGER_ROLES
    )
    emails = {dispute.member.email}
    emails |= set(managers.values_list("member__email", flat=True))
    if dispute.mediator is not None and dispute.mediator.email:
        emails.add(dispute.mediator.email)
    return sorted(e for e in emails if e)


def _notify(dispute_id: int, subject: str) -> None:
    dispute = Dispute.objects.select_related("member", "mediator", "line__statement").get(
        pk=dispute_id
    )
    last = dispute.events.order_by("-at", "-pk").first()
    body = _(
        "Dispute no. %(id)s on the line “%(line)s” of the statement of %(month)s is now: "
        "%(state)s.\n\n%(message)s"
    ) % {
        "id": dispute.pk,
        "line": dispute.line.description,
        "month": f"{dispute.line.statement.month:%m/%Y}",
        "state": dispute.get_state_display(),
        "message": last.message if last else "",
    }
    send_mail(subject, body, None, dispute_recipients(dispute), fail_silently=True)


# Payouts --------------------------------------------------------------------------------


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
