"""What the billing app tells people: new statements, payouts sent, disputes.

Money topics are mandatory (the platform's rule, docs/notifications.md: a
member always hears of money by e-mail): a member cannot switch off being told of a new
statement or of a payout. Every notice leaves after the commit of the step that makes it,
and a notice that fails never undoes that step (the guard of cer/members/notices.py).
A member without a user account gets nothing in an inbox: their statement still exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from cer.billing.models import Dispute, PayoutBatch, PayoutItemStatus, Statement
from cer.core import formatting
from cer.members.notices import Written, after_commit, managers_of
from cer.notifications import links, topics
from cer.notifications.services import notify

STATEMENT_ISSUED = topics.register(
    topics.Topic(
        code="billing.statement.issued",
        title=_("A new statement of your share"),
        subject=_("Your statement of {month}: {amount}"),
        body=_(
            "{community} issued your statement of {month} (version {version}): {amount} in "
            "all. {reason}"
        ),
        mandatory=True,
    )
)
PAYOUT_SENT = topics.register(
    topics.Topic(
        code="billing.payout.sent",
        title=_("A payout sent to your account"),
        subject=_("Payout of {amount} sent"),
        body=_(
            "{community} sent a transfer of {amount} to your account ending in {iban_end} "
            "on {sent_date}."
        ),
        mandatory=True,
    )
)
_DISPUTE_BODY = _(
    "Dispute no. {id} on the line “{line}” of the statement of {month} is now: {state}."
    "\n\n{message}"
)


def _dispute_topic(event: str, title: Any, subject: Any) -> topics.Topic:
    """A step of a dispute: money, so mandatory; every step shares the body."""
    return topics.register(
        topics.Topic(
            code=f"billing.dispute.{event}",
            title=title,
            subject=subject,
            body=_DISPUTE_BODY,
            mandatory=True,
        )
    )


DISPUTE_OPENED = _dispute_topic(
    "opened",
    _("A statement line contested"),
    _("A statement line was contested: dispute no. {id}"),
)
DISPUTE_ANSWERED = _dispute_topic(
    "answered", _("A dispute answered"), _("Dispute no. {id} answered")
)
DISPUTE_RESOLVED = _dispute_topic(
    "resolved", _("A dispute decided"), _("Dispute no. {id} decided: {state}")
)
DISPUTE_UPDATED = _dispute_topic(
    "updated", _("Other steps of a dispute"), _("Dispute no. {id}: {state}")
)
_DISPUTE_TOPIC = {
    "open": DISPUTE_OPENED,
    "answer": DISPUTE_ANSWERED,
    "resolve": DISPUTE_RESOLVED,
    "reject": DISPUTE_RESOLVED,
}


def _after_commit(send: Callable[[], object]) -> None:
    after_commit(send, what="a billing event")


def statements_issued(statement_ids: Iterable[int], *, now: dt.datetime) -> None:
    """Tell each member whose statement got a new version: the month, amount, and why."""
    ids = list(statement_ids)
    if ids:
        _after_commit(lambda: _tell_statements(ids, now))


def _tell_statements(ids: list[int], now: dt.datetime) -> None:
    statements = (
        Statement.objects.filter(pk__among=ids, member__user__isnull=False)
        .select_related("member__user", "configuration__community")
        .order_by("pk")
    )
    for statement in statements:
        community = statement.configuration.community
        notify(
            [statement.member.user],
            STATEMENT_ISSUED.code,
            {
                "month": Written(formatting.month, statement.month),
                "amount": statement.amount_eur,
                "version": statement.version,
                "reason": statement.reason,
                "community": community.name,
            },
            link=links.site_path("billing:statement", statement.pk),
            now=now,
            community=community,
            dedupe_key=f"statement:{statement.pk}",
        )


def payout_sent(batch: PayoutBatch, *, now: dt.datetime) -> None:
    """Tell each member paid by the batch that their transfer left for the bank."""
    batch_id = batch.pk
    _after_commit(lambda: _tell_payout(batch_id, now))


def _tell_payout(batch_id: int, now: dt.datetime) -> None:
    batch = PayoutBatch.objects.select_related("configuration__community").get(pk=batch_id)
    community = batch.configuration.community
    items = (
        batch.items.filter(member__user__isnull=False)
        .exclude(status=PayoutItemStatus.REJECTED)
        .select_related("member__user")
    )
    for item in items:
        notify(
            [item.member.user],
            PAYOUT_SENT.code,
            {
                "amount": item.amount_eur,
                "iban_end": item.iban[-4:],
                "sent_date": batch.sent_date,
                "community": community.name,
            },
            link=links.site_path("billing:my_statements"),
            now=now,
            community=community,
            dedupe_key=f"payout:{item.pk}",
        )


def dispute_step(dispute_id: int, *, action: str, now: dt.datetime) -> None:
    """Tell the parties of a dispute its new step (`action`: open, answer, resolve, …)."""
    topic = _DISPUTE_TOPIC.get(action, DISPUTE_UPDATED)
    _after_commit(lambda: _tell_dispute(dispute_id, topic, now))


def dispute_users(dispute: Dispute, now: dt.datetime) -> list[User]:
    """The parties: the member's user, who opened it, the managers, the mediator."""
    users: list[User] = []
    opener = (
        dispute.events.filter(from_state="", actor__isnull=False)
        .select_related("actor")
        .order_by("at", "pk")
        .first()
    )
    for user in (dispute.member.user, opener.actor if opener else None, dispute.mediator):
        if user is not None:
            users.append(user)
    community_id = dispute.line.statement.configuration.community_id
    return users + managers_of(community_id, now)


def _tell_dispute(dispute_id: int, topic: topics.Topic, now: dt.datetime) -> None:
    dispute = Dispute.objects.select_related(
        "member__user", "mediator", "line__statement__configuration__community"
    ).get(pk=dispute_id)
    last = dispute.events.order_by("-at", "-pk").first()
    community = dispute.line.statement.configuration.community
    notify(
        dispute_users(dispute, now),
        topic.code,
        {
            "id": dispute.pk,
            "line": dispute.line.shown_description,
            "month": Written(formatting.month, dispute.line.statement.month),
            "state": _State(dispute),
            "message": last.message if last else "",
        },
        link=links.site_path("billing:dispute", dispute.pk),
        now=now,
        community=community,
    )


class _State:
    """A dispute's state in words, in the recipient's language."""

    def __init__(self, dispute: Dispute) -> None:
        self.dispute = dispute

    def __str__(self) -> str:
        return str(self.dispute.get_state_display()).lower()
