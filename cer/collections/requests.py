"""Payment requests: what a member is asked to pay, created one by one or for everyone.

A request is a member, a kind (membership fee, entry fee, balance owed), an amount in euro
with at most two decimals, a due date and a description. Its state moves with the way it
is collected (cer/collections/batches.py, reports.py, pagopa/): open, in a batch, paid,
returned (to collect again) or cancelled. A balance owed comes from billing: the members
whose unpaid lines net to a negative amount (cer.billing.payouts.preview, "OWED") are asked
to pay it back; when they do, a repayment line is added to their statement
(cer.billing.statements.add_lines), so their position nets to zero and money never
disappears.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.billing.models import LineKind, Statement, StatementStatus
from cer.billing.payouts import preview
from cer.billing.statements import NewLine, add_lines
from cer.collections.errors import CollectionError
from cer.collections.models import (
    COLLECTABLE_STATES,
    PaymentRequest,
    RequestKind,
    RequestState,
)
from cer.communities.models import Community, Configuration
from cer.members.models import Member, Membership

CENT = Decimal("0.01")


def parse_amount(value: Any, *, field: str = "amount_eur") -> Decimal:
    """Return a positive amount in euro with at most two decimals; refuse anything else."""
    try:
        amount = Decimal(str(value).strip().replace(",", ".")) if value is not None else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise CollectionError(_("“%(value)s” is not an amount") % {"value": value}, field=field)
    if amount != amount.quantize(CENT):
        raise CollectionError(
            _("%(value)s has more than two decimals: amounts are in euro and cents")
            % {"value": value},
            field=field,
        )
    if amount <= 0:
        raise CollectionError(_("the amount must be more than 0.00 EUR"), field=field)
    return amount.quantize(CENT)


def _check_member(community: Community, member: Member) -> None:
    if not Membership.objects.filter(community=community, member=member).exists():
        raise CollectionError(
            _("%(member)s is not a member of %(community)s")
            % {"member": member.display_name, "community": community.name},
            field="member",
        )


def create_request(
    *,
    community: Community,
    member: Member,
    kind: str,
    amount_eur: Any,
    due_date: dt.date | None,
    description: str,
    actor: Any,
    now: dt.datetime,
    series: str = "",
) -> PaymentRequest:
    """Ask one member to pay an amount. Raises CollectionError naming the field at fault."""
    amount = parse_amount(amount_eur)
    if kind not in RequestKind.values:
        raise CollectionError(_("unknown kind of request"), field="kind")
    if due_date is None:
        raise CollectionError(_("the due date is required"), field="due_date")
    if not description.strip():
        raise CollectionError(_("the description is required"), field="description")
    _check_member(community, member)
    try:
        with transaction.atomic():
            request = PaymentRequest.objects.create(
                community=community,
                member=member,
                kind=kind,
                amount_eur=amount,
                due_date=due_date,
                description=description.strip()[:140],
                series=series,
                created_at=now,
                created_by=_user(actor),
            )
            _audit(request, actor, now, "collections.request.created", {"series": series})
    except IntegrityError as error:
        raise CollectionError(
            _("%(member)s already has a request of the series %(series)s")
            % {"member": member.display_name, "series": series},
            field="member",
        ) from error
    return request


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _audit(
    request: PaymentRequest, actor: Any, now: dt.datetime, code: str, extra: dict[str, Any]
) -> None:
    record(
        actor=actor,
        code=code,
        now=now,
        target=request,
        community=request.community,
        changes={
            "member_id": request.member_id,
            "kind": request.kind,
            "amount_eur": str(request.amount_eur),
            "due_date": request.due_date.isoformat(),
            "state": request.state,
            **extra,
        },
    )


@dataclass(frozen=True)
class FeePlan:
    """Who a bulk fee would ask, who already has one of the series, and the total."""

    members: list[Member]
    already: list[Member]
    amount_eur: Decimal

    @property
    def total_eur(self) -> Decimal:
        return self.amount_eur * len(self.members)


def fee_plan(*, community: Community, amount_eur: Any, series: str, day: dt.date) -> FeePlan:
    """Return the members active on `day` a fee of the series would be asked of."""
    amount = parse_amount(amount_eur)
    active = (
        Membership.objects.active_on(day)
        .filter(community=community)
        .select_related("member")
        .order_by("member_id")
    )
    members = list({m.member_id: m.member for m in active}.values())
    having = set(
        PaymentRequest.objects.filter(community=community, series=series)
        .exclude(state=RequestState.CANCELLED)
        .values_list("member_id", flat=True)
    )
    return FeePlan(
        members=[m for m in members if m.pk not in having],
        already=[m for m in members if m.pk in having],
        amount_eur=amount,
    )


def create_fee_for_all(
    *,
    community: Community,
    kind: str,
    amount_eur: Any,
    due_date: dt.date | None,
    description: str,
    series: str,
    actor: Any,
    now: dt.datetime,
) -> list[PaymentRequest]:
    """Ask every member active on the due date for the same fee, once per series.

    Members who already have a live request of the series are skipped (running it twice
    asks nobody twice). Raises CollectionError naming the field at fault.
    """
    if not series.strip():
        raise CollectionError(_("the series is required (e.g. FEE-2025)"), field="series")
    if due_date is None:
        raise CollectionError(_("the due date is required"), field="due_date")
    plan = fee_plan(community=community, amount_eur=amount_eur, series=series, day=due_date)
    if not plan.members:
        raise CollectionError(
            _("every active member already has a request of the series %(series)s")
            % {"series": series},
            field="series",
        )
    with transaction.atomic():
        return [
            create_request(
                community=community,
                member=member,
                kind=kind,
                amount_eur=plan.amount_eur,
                due_date=due_date,
                description=description,
                series=series.strip(),
                actor=actor,
                now=now,
            )
            for member in plan.members
        ]


def create_balances_owed(
    *,
    configuration: Configuration,
    due_date: dt.date,
    actor: Any,
    now: dt.datetime,
) -> list[PaymentRequest]:
    """Ask each member who owes the community money back (negative unpaid lines) for it.

    A member with an open request for a balance owed is not asked again; the request
    remembers the distribution of the member's latest current statement, where the
    repayment line goes once paid.
    """
    community = configuration.community
    owed = preview(configuration=configuration, period_end=dt.date.max).owed
    pending = set(
        PaymentRequest.objects.filter(
            community=community,
            kind=RequestKind.BALANCE_OWED,
            state__in=[*COLLECTABLE_STATES, RequestState.IN_BATCH],
        ).values_list("member_id", flat=True)
    )
    created = []
    with transaction.atomic():
        for member in owed:
            if member.member_id in pending:
                continue
            latest = (
                Statement.objects.filter(
                    configuration=configuration,
                    member_id=member.member_id,
                    status=StatementStatus.CURRENT,
                )
                .order_by("-month")
                .first()
            )
            request = create_request(
                community=community,
                member=Member.objects.get(pk=member.member_id),
                kind=RequestKind.BALANCE_OWED,
                amount_eur=-member.amount_eur,
                due_date=due_date,
                description=_("Balance owed to %(community)s") % {"community": community.name},
                actor=actor,
                now=now,
            )
            if latest is not None:
                request.distribution_id = latest.distribution_id
                request.save(update_fields=["distribution"])
            created.append(request)
    return created


def cancel_request(
    *, request: PaymentRequest, reason: str, actor: Any, now: dt.datetime
) -> PaymentRequest:
    """Cancel an open or returned request (nothing is being collected for it)."""
    if not reason.strip():
        raise CollectionError(_("say why the request is cancelled"), field="reason")
    with transaction.atomic():
        locked = PaymentRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state not in COLLECTABLE_STATES:
            raise CollectionError(
                _("a request that is %(state)s cannot be cancelled")
                % {"state": locked.get_state_display().lower()},
                field="state",
            )
        before = locked.state
        locked.state = RequestState.CANCELLED
        locked.cancelled_at = now
        locked.reason = reason.strip()[:300]
        locked.save(update_fields=["state", "cancelled_at", "reason"])
        _audit(locked, actor, now, "collections.request.cancelled", {"from": before})
    return locked


def mark_paid(
    request: PaymentRequest, *, paid_date: dt.date, how: str, actor: Any, now: dt.datetime
) -> None:
    """Record a request as paid (inside the caller's transaction).

    A balance owed adds the repayment as a line of the member's statement, so the position
    the payouts read nets to zero.
    """
    request.state = RequestState.PAID
    request.paid_date = paid_date
    request.reason_code, request.reason = "", ""
    request.save(update_fields=["state", "paid_date", "reason_code", "reason"])
    distribution = request.distribution if request.kind == RequestKind.BALANCE_OWED else None
    if distribution is not None:
        add_lines(
            distribution=distribution,
            lines={
                request.member_id: [
                    NewLine(
                        LineKind.ADJUSTMENT,
                        _("Repayment received (%(how)s, %(reference)s)")
                        % {"how": how, "reference": request.reference},
                        request.amount_eur,
                    )
                ]
            },
            reason=_("repayment of a balance owed received"),
            now=now,
        )
    _audit(request, actor, now, "collections.request.paid", {"how": how})


def mark_returned(
    request: PaymentRequest,
    *,
    reason_code: str,
    reason: str,
    actor: Any,
    now: dt.datetime,
) -> None:
    """Record a debit returned or rejected: the request is to collect again (in a transaction)."""
    was_paid = request.state == RequestState.PAID
    request.state = RequestState.RETURNED
    request.paid_date = None
    request.reason_code, request.reason = reason_code[:4], reason[:300]
    request.save(update_fields=["state", "paid_date", "reason_code", "reason"])
    distribution = request.distribution if request.kind == RequestKind.BALANCE_OWED else None
    if was_paid and distribution is not None:
        add_lines(
            distribution=distribution,
            lines={
                request.member_id: [
                    NewLine(
                        LineKind.ADJUSTMENT,
                        _("Repayment returned by the bank (%(reference)s, %(code)s)")
                        % {"reference": request.reference, "code": reason_code},
                        -request.amount_eur,
                    )
                ]
            },
            reason=_("repayment of a balance owed returned"),
            now=now,
        )
    _audit(request, actor, now, "collections.request.returned", {"reason_code": reason_code})
