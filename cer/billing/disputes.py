"""Disputes on statement lines: opened by the member, answered, escalated, decided.

Resolving a dispute in the member's favour issues a corrected statement version
(cer.billing.statements.correct_statement); every step is an event and an audit entry,
and the parties are told after the commit (cer/billing/notices.py), through the
notification centre, which retries a failed e-mail and shows one that fails for good.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from cer.access.rules import BACK_OFFICE_GROUP, MANAGER_ROLES
from cer.audit.services import record
from cer.billing import notices
from cer.billing.models import (
    Dispute,
    DisputeEvent,
    DisputeState,
    LineKind,
    Statement,
    StatementLine,
    StatementStatus,
)
from cer.billing.statements import StatementNotCurrent, correct_statement
from cer.members.models import Membership


class DisputeError(Exception):
    """A dispute step that is not allowed in the dispute's state, or lacks what it needs."""


class DisputeRefused(DisputeError):
    """A dispute step the actor's role does not offer (a member cannot answer or decide)."""


def open_dispute(*, line: StatementLine, actor: Any, message: str, now: dt.datetime) -> Dispute:
    """Let the member contest a line of their current statement; tell the managers."""
    statement = line.statement
    if statement.status != StatementStatus.CURRENT:
        raise DisputeError(_("Only lines of the current statement can be contested."))
    if not message.strip():
        raise DisputeError(_("message: write what you contest."))
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
        notices.dispute_step(dispute.pk, action="open", now=now)
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


# Who may take which step. A party to the dispute (the member it concerns, or whoever opened
# it) writes replies and may withdraw it; the community's managers answer, escalate to a
# mediator and decide; the invited mediator replies and sends a recommendation, which the
# managers then act on. A manager who is also a party may only escalate: nobody decides
# their own dispute (the same reason a party cannot mediate it).
MEMBER = "member"
MANAGER = "manager"
MEDIATOR = "mediator"

_LIVE = frozenset({DisputeState.OPEN, DisputeState.ANSWERED, DisputeState.ESCALATED})


@dataclass(frozen=True)
class _Step:
    label: Any
    allowed_from: frozenset[str]
    # The state after the step; None keeps the state (a reply), except the member's reply
    # to an answer, which puts the dispute back in the managers' hands (OPEN).
    target: str | None
    audit_code: str


STEPS: dict[str, _Step] = {
    "reply": _Step(_lazy("Write a reply"), _LIVE, None, "billing.dispute.replied"),
    "withdraw": _Step(
        _lazy("Withdraw the dispute"), _LIVE, DisputeState.WITHDRAWN, "billing.dispute.withdrawn"
    ),
    "answer": _Step(
        _lazy("Answer"),
        frozenset({DisputeState.OPEN, DisputeState.ESCALATED}),
        DisputeState.ANSWERED,
        "billing.dispute.answered",
    ),
    "escalate": _Step(
        _lazy("Escalate to a mediator"),
        frozenset({DisputeState.OPEN, DisputeState.ANSWERED}),
        DisputeState.ESCALATED,
        "billing.dispute.escalated",
    ),
    "resolve": _Step(_lazy("Resolve"), _LIVE, DisputeState.RESOLVED, "billing.dispute.resolved"),
    "reject": _Step(_lazy("Reject"), _LIVE, DisputeState.REJECTED, "billing.dispute.rejected"),
    "recommend": _Step(
        _lazy("Send your recommendation to the community"),
        frozenset({DisputeState.ESCALATED}),
        DisputeState.ANSWERED,
        "billing.dispute.recommended",
    ),
}

_ROLE_ACTIONS = {
    MEMBER: ("reply", "withdraw"),
    MANAGER: ("answer", "escalate", "resolve", "reject"),
    MEDIATOR: ("reply", "recommend"),
}


def dispute_roles(dispute: Dispute, user: Any, *, today: dt.date) -> set[str]:
    """Return the user's roles in the dispute: member (a party), manager, mediator."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    roles = set()
    if user.pk in dispute_parties(dispute):
        roles.add(MEMBER)
    if dispute.mediator_id == user.pk:
        roles.add(MEDIATOR)
    community_id = dispute.line.statement.configuration.community_id
    manages = (
        Membership.objects.active_on(today)
        .filter(member__user_id=user.pk, community_id=community_id, role__in=MANAGER_ROLES)
        .exists()
    )
    if manages or user.is_staff or user.is_superuser:
        roles.add(MANAGER)
    return roles


def role_actions(dispute: Dispute, user: Any, *, today: dt.date) -> list[str]:
    """Return the steps the user's roles offer, whatever the dispute's state, in a fixed order."""
    roles = dispute_roles(dispute, user, today=today)
    offered: set[str] = set()
    for role in roles:
        offered.update(_ROLE_ACTIONS[role])
    if MEMBER in roles and MANAGER in roles:
        offered -= {"answer", "resolve", "reject"}
    return [action for action in STEPS if action in offered]


def available_actions(dispute: Dispute, user: Any, *, today: dt.date) -> list[str]:
    """Return the steps the user may take now: their roles' steps the state allows."""
    return [
        action
        for action in role_actions(dispute, user, today=today)
        if dispute.state in STEPS[action].allowed_from
    ]


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
    """Move a dispute on: reply, withdraw, answer, escalate (inviting a mediator), resolve,
    reject, recommend.

    Each role has its steps (STEPS, _ROLE_ACTIONS); `actor=None` is the platform itself (a
    command), not limited by role. Resolving with a positive `amount_eur` [EUR] is a decision
    in the member's favour: a new statement version adds an ADJUSTMENT line of that amount,
    the old version kept (docs/algorithms/statements.md).
    Raises DisputeRefused for a step the actor's role does not offer, DisputeError for a
    step the dispute's state does not allow, a missing message or mediator, or a mediator
    who is a party to the dispute.
    """
    if action not in STEPS:
        raise DisputeError(_("Unknown step “%(action)s”.") % {"action": action})
    step = STEPS[action]
    today = timezone.localtime(now).date()
    if actor is not None and action not in role_actions(dispute, actor, today=today):
        raise DisputeRefused(_refusal(dispute, actor, action, today))
    if action in ("reply", "answer", "recommend") and not message.strip():
        raise DisputeError(_("message: write what you want to say."))
    if amount_eur is not None and amount_eur < 0:
        raise DisputeError(_("award: an award is an amount in the member's favour, not below 0."))
    with transaction.atomic():
        locked = (
            Dispute.objects.select_for_update().select_related("line__statement").get(pk=dispute.pk)
        )
        if locked.state not in step.allowed_from:
            raise DisputeError(
                _("“%(step)s” is not possible on a dispute that is %(state)s.")
                % {"step": step.label, "state": DisputeState(locked.state).label.lower()}
            )
        before = locked.state
        target = step.target or before
        reopens = action == "reply" and before == DisputeState.ANSWERED
        if reopens and MEMBER in dispute_roles(locked, actor, today=today):
            target = DisputeState.OPEN
        fields = ["state"]
        if action == "escalate":
            if mediator is None:
                raise DisputeError(_("mediator: choose the mediator to invite."))
            if mediator.pk in dispute_parties(locked):
                raise DisputeError(_("mediator: a party to the dispute cannot be its mediator"))
            locked.mediator = mediator
            fields.append("mediator")
        if action == "resolve" and amount_eur:
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
        locked.state = target
        locked.save(update_fields=fields)
        _event(locked, actor, before, target, message, now)
        record(
            actor=actor,
            code=step.audit_code,
            now=now,
            target=locked,
            community=locked.line.statement.configuration.community,
            changes={"state": [before, target], "amount_eur": str(amount_eur or 0)},
        )
        notices.dispute_step(locked.pk, action=action, now=now)
    return locked


def _refusal(dispute: Dispute, actor: Any, action: str, today: dt.date) -> str:
    """Say, in words, why the actor cannot take the step and what they can do instead."""
    step = STEPS[action].label
    offered = available_actions(dispute, actor, today=today)
    if not offered:
        return _(
            "“%(step)s” is not one of your steps on this dispute, and it needs none from you now."
        ) % {"step": step}
    return _("“%(step)s” is not one of your steps on this dispute. You can: %(steps)s.") % {
        "step": step,
        "steps": ", ".join(str(STEPS[a].label).lower() for a in offered),
    }


@dataclass(frozen=True)
class TimelineEntry:
    """One step of a dispute as a person reads it: who, in which role, did what, when."""

    at: dt.datetime
    who: str
    role: str
    what: str
    message: str


def timeline(dispute: Dispute) -> list[TimelineEntry]:
    """Return the dispute's events, oldest first, each with who took it and what it did."""
    member_user_id = dispute.member.user_id
    entries = []
    for event in dispute.events.select_related("actor").order_by("at", "pk"):
        actor = event.actor
        if actor is None:
            who, role = str(_("the platform")), ""
        else:
            who = actor.get_full_name() or actor.get_username()
            if actor.pk == member_user_id or not event.from_state:
                role = str(_("member"))
            elif actor.pk == dispute.mediator_id:
                role = str(_("mediator"))
            else:
                role = str(_("community manager"))
        entries.append(
            TimelineEntry(
                at=event.at,
                who=who,
                role=role,
                what=_event_in_words(event.from_state, event.to_state),
                message=event.message,
            )
        )
    return entries


def _event_in_words(before: str, after: str) -> str:
    if not before:
        return str(_("opened the dispute"))
    if before == after:
        return str(_("wrote a reply"))
    if before == DisputeState.ANSWERED and after == DisputeState.OPEN:
        return str(_("replied to the answer: the dispute is open again"))
    words: dict[str, str] = {
        DisputeState.ANSWERED: str(_("answered")),
        DisputeState.ESCALATED: str(_("escalated the dispute to a mediator")),
        DisputeState.RESOLVED: str(_("resolved the dispute")),
        DisputeState.REJECTED: str(_("rejected the dispute")),
        DisputeState.WITHDRAWN: str(_("withdrew the dispute")),
    }
    return words.get(after, str(_("moved the dispute on")))


def award_eur(dispute: Dispute) -> Decimal | None:
    """Return the amount awarded to the member [EUR], None when nothing was awarded."""
    if dispute.corrected_statement_id is None:
        return None
    line = (
        StatementLine.objects.filter(
            statement_id=dispute.corrected_statement_id, kind=LineKind.ADJUSTMENT
        )
        .order_by("-position")
        .first()
    )
    return line.amount_eur if line else None


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
