"""Disputes on statement lines: opened by the member, answered, escalated, decided.

Resolving a dispute in the member's favour issues a corrected statement version
(cer.billing.statements.correct_statement); every step is an event and an audit entry,
and the parties are told by email after the commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from cer.access.rules import BACK_OFFICE_GROUP, MANAGER_ROLES
from cer.audit.services import record
from cer.billing.models import (
    Dispute,
    DisputeEvent,
    DisputeState,
    Statement,
    StatementLine,
    StatementStatus,
)
from cer.billing.statements import StatementNotCurrent, correct_statement
from cer.members.models import Membership


class DisputeError(Exception):
    """A dispute step that is not allowed in the dispute's state."""


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
                try:
                    locked.corrected_statement = correct_statement(
                        statement=statement,
                        amount_eur=amount_eur,
                        description=_("Correction after dispute no. %(id)s") % {"id": locked.pk},
                        now=now,
                    )
                except StatementNotCurrent as error:
                    # Superseded meanwhile: a refused dispute step, as before the split.
                    raise DisputeError(str(error)) from error
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
