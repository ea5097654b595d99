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

from cer.members.models import Membership, MembershipApplication, MembershipRole
from cer.notifications import links, topics
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
