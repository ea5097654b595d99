"""What the members app tells people: applications, their outcome, and who manages what.

The notification centre (cer.notifications) stands below the nouns; this module tells it
who manages a community (registered in MembersConfig.ready, so that a delivery failing
for good reaches the referente) and sends the application notices. Each notice leaves
after the decision is committed: a rolled-back approval tells nobody anything.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cer.members.models import Invitation, Membership, MembershipApplication, MembershipRole
from cer.notifications import links, topics
from cer.notifications.models import Notification
from cer.notifications.services import notify

logger = logging.getLogger(__name__)

# The roles that manage a community (the same as cer.access.rules.MANAGER_ROLES, which
# this floor cannot import without a cycle).
MANAGING_ROLES = (MembershipRole.REFERENTE, MembershipRole.ADMINISTRATOR)


def managers_of(community_id: int, now: dt.datetime) -> list[User]:
    """The users who manage the community on `now`'s local day, referenti first."""
    day = timezone.localdate(now)
    memberships = (
        Membership.objects.active_on(day)
        .filter(community_id=community_id, role__in=MANAGING_ROLES, member__user__isnull=False)
        .select_related("member__user")
        .order_by("-role", "pk")
    )
    users: dict[int, User] = {}
    for membership in memberships:
        user = membership.member.user
        if user is not None:
            users.setdefault(user.pk, user)
    return list(users.values())


class Written:
    """A value written for the recipient when the notice is made, in their language.

    `notify` writes each context value with `str()` under the recipient's language; a
    month or an energy wrapped here goes through cer.core.formatting at that moment
    (`Written(formatting.month, day)`, `Written(formatting.kwh, shared_wh)`).
    """

    def __init__(self, formatter: Callable[[Any], str], value: Any) -> None:
        self.formatter, self.value = formatter, value

    def __str__(self) -> str:
        return self.formatter(self.value)


def after_commit(send: Callable[[], object], *, what: str = "an event") -> None:
    """Notify once the step is committed; a notice that fails never undoes the step."""

    def guarded() -> None:
        try:
            send()
        except Exception:
            logger.exception("notification after %s failed", what)

    transaction.on_commit(guarded)


def _after_commit(send: Callable[[], object]) -> None:
    """Notify once the decision is committed; a notice that fails never undoes the decision."""

    def guarded() -> None:
        try:
            send()
        except Exception:
            logger.exception("notification after an application event failed")

    transaction.on_commit(guarded)


def application_submitted(application: MembershipApplication, *, now: dt.datetime) -> None:
    """Tell the community's managers an application waits for them."""
    community = application.community
    applicant = application.member.display_name if application.member else str(application.user)
    link = links.site_path("members:application", application.pk)
    _after_commit(
        lambda: notify(
            managers_of(community.pk, now),
            topics.APPLICATION_SUBMITTED.code,
            {"applicant": applicant, "community": community.name},
            link=link,
            now=now,
            community=community,
        )
    )


def application_decided(
    application: MembershipApplication, *, approved: bool, now: dt.datetime, **context: Any
) -> None:
    """Tell the applicant the community's decision."""
    community = application.community
    topic = topics.APPLICATION_APPROVED if approved else topics.APPLICATION_REJECTED
    link = links.site_path("home")
    _after_commit(
        lambda: notify(
            [application.user],
            topic.code,
            {"community": community.name, **context},
            link=link,
            now=now,
            community=community,
        )
    )


IBAN_CHANGED = topics.register(
    topics.Topic(
        code="members.membership.iban_changed",
        title=_("Your IBAN changed"),
        subject=_("IBAN changed for {community}"),
        body=_(
            "Your IBAN for {community} was changed by {actor} on {at}.\nNew IBAN: {iban}\n\n"
            "The community's next payments go to this account. If you did not ask for this "
            "change, tell the community's referente at once and check your profile."
        ),
        # A changed bank account is a classic sign of fraud: always, at once.
        mandatory=True,
        urgent=True,
    )
)


def iban_changed(
    user: User, *, community: Any, context: dict[str, Any], now: dt.datetime
) -> list[Notification]:
    """Tell the person whose IBAN changed (called after commit by cer.members.changes)."""
    return notify(
        [user],
        IBAN_CHANGED.code,
        {"community": community.name, **context},
        link=links.site_path("home"),
        now=now,
        community=community,
        urgent=True,
    )


INVITATION_SENT = topics.register(
    topics.Topic(
        code="members.invitation.sent",
        title=_("An invitation sent by another manager"),
        subject=_("{inviter} invited {email} to {community}"),
        body=_("{inviter} invited {email} to join {community}; the link works until {expires_at}."),
    )
)
INVITATION_EXPIRING = topics.register(
    topics.Topic(
        code="members.invitation.expiring",
        title=_("An invitation about to expire unused"),
        subject=_("The invitation to {email} expires on {expires_at}"),
        body=_(
            "The invitation to {email} to join {community} has not been used and expires on "
            "{expires_at}. Resend it from the members page if they still mean to join."
        ),
    )
)
# How long before an unused invitation expires its inviter is reminded of it.
INVITATION_REMINDER = dt.timedelta(days=3)


def invitation_sent(invitation: Invitation, *, now: dt.datetime) -> None:
    """Tell the community's other managers of an invitation (the invitee, who has no
    account yet, gets the invitation e-mail itself: cer.members.services.send_invitation)."""
    community = invitation.community
    inviter = invitation.invited_by
    name = (inviter.get_full_name() or inviter.get_username()) if inviter else "—"
    link = links.site_path("members:member_list", community.pk)

    def send() -> None:
        others = [u for u in managers_of(community.pk, now) if u.pk != getattr(inviter, "pk", None)]
        notify(
            others,
            INVITATION_SENT.code,
            {
                "inviter": name,
                "email": invitation.email,
                "community": community.name,
                "expires_at": invitation.expires_at,
            },
            link=link,
            now=now,
            community=community,
        )

    after_commit(send, what="an invitation")


def remind_expiring_invitations(now: dt.datetime) -> int:
    """Remind the inviter (or, when they are gone, the managers) of each unused invitation
    that expires within INVITATION_REMINDER; once per invitation. Returns how many."""
    due = (
        Invitation.objects.filter(
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + INVITATION_REMINDER,
        )
        .select_related("community", "invited_by")
        .order_by("pk")
    )
    told = 0
    for invitation in due:
        community = invitation.community
        inviter = invitation.invited_by
        recipients = [inviter] if inviter is not None and inviter.is_active else []
        made = notify(
            recipients or managers_of(community.pk, now),
            INVITATION_EXPIRING.code,
            {
                "email": invitation.email,
                "community": community.name,
                "expires_at": invitation.expires_at,
            },
            link=links.site_path("members:member_list", community.pk),
            now=now,
            community=community,
            dedupe_key=f"invitation-expiring:{invitation.pk}",
        )
        told += len(made)
    return told
