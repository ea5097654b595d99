"""Who a communication goes to: the filters, and what a message may say about each member.

Every filter starts from the community's memberships active on the day of sending (one per
member: the latest), so a member who left, or who has not joined yet, gets nothing.

"Missing data" means precisely: the member has no e-mail, or no phone, or no IBAN on this
community's membership, or no user account with an active consent to the membership
processing (privacy purpose MEMBERSHIP).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from cer.communications.fields import RecipientFacts
from cer.communications.models import RecipientFilter
from cer.communities.models import Community, Configuration
from cer.members.models import Membership
from cer.plants.models import ConnectionPoint, Plant
from cer.privacy.models import Consent, ConsentPurpose


class BadFilter(ValueError):
    """Raised when a filter lacks what it needs (a configuration, hand-picked members)."""


def active_memberships(community: Community, day: dt.date) -> list[Membership]:
    """The community's memberships active on `day`, one per member (the latest), by name."""
    rows = (
        Membership.objects.active_on(day)
        .filter(community=community)
        .select_related("member")
        .order_by("valid_from", "pk")
    )
    by_member = {m.member_id: m for m in rows}
    return sorted(by_member.values(), key=lambda m: (m.member.display_name.lower(), m.member_id))


def select(
    *,
    community: Community,
    recipient_filter: str,
    day: dt.date,
    configuration: Configuration | None = None,
    member_ids: Iterable[int] = (),
) -> list[Membership]:
    """Return the memberships a filter picks among the community's active ones on `day`.

    Raises BadFilter for a configuration filter without a configuration of this
    community, or a hand-picked filter without members.
    """
    memberships = active_memberships(community, day)
    ids = {m.member_id for m in memberships}
    if recipient_filter == RecipientFilter.ALL:
        chosen = ids
    elif recipient_filter == RecipientFilter.CONFIGURATION:
        if configuration is None or configuration.community_id != community.pk:
            raise BadFilter("configuration")
        chosen = set(
            ConnectionPoint.objects.filter(
                configuration=configuration, holder_id__in=ids
            ).values_list("holder_id", flat=True)
        )
    elif recipient_filter == RecipientFilter.PRODUCERS:
        chosen = set(
            Plant.objects.filter(
                owner_id__in=ids, connection_point__configuration__community=community
            ).values_list("owner_id", flat=True)
        )
    elif recipient_filter == RecipientFilter.NO_IBAN:
        # The IBAN is encrypted at rest: it is read, never filtered in SQL.
        chosen = {m.member_id for m in memberships if not m.iban}
    elif recipient_filter == RecipientFilter.MISSING_DATA:
        consenting = _consenting_users(
            {m.member.user_id for m in memberships if m.member.user_id is not None}
        )
        chosen = {m.member_id for m in memberships if missing_data(m, consenting)}
    elif recipient_filter == RecipientFilter.HAND_PICKED:
        chosen = ids & set(member_ids)
        if not chosen:
            raise BadFilter("members")
    else:
        raise BadFilter(recipient_filter)
    return [m for m in memberships if m.member_id in chosen]


def _consenting_users(user_ids: set[int]) -> set[int | None]:
    return set(
        Consent.objects.filter(
            user_id__in=user_ids, purpose=ConsentPurpose.MEMBERSHIP, withdrawn_at__isnull=True
        ).values_list("user_id", flat=True)
    )


def missing_data(membership: Membership, consenting_user_ids: set[int | None]) -> list[Any]:
    """The data a member lacks, as lazy labels: e-mail, phone, IBAN, consent."""
    member = membership.member
    missing: list[Any] = []
    if not member.email:
        missing.append(_("e-mail"))
    if not member.phone:
        missing.append(_("phone"))
    if not membership.iban:
        missing.append(_("IBAN"))
    if member.user_id not in consenting_user_ids:
        missing.append(_("consent to the membership processing"))
    return missing


def facts_of(
    memberships: list[Membership], *, community: Community, due_date: dt.date | None
) -> dict[int, RecipientFacts]:
    """What a message may say about each member, keyed by member id (few queries)."""
    member_ids = [m.member_id for m in memberships]
    configurations: dict[int, list[str]] = {}
    points = (
        ConnectionPoint.objects.filter(holder_id__in=member_ids, configuration__community=community)
        .order_by("configuration__name")
        .values_list("holder_id", "configuration__name")
    )
    for holder_id, name in points:
        names = configurations.setdefault(holder_id, [])
        if name not in names:
            names.append(name)
    consenting = _consenting_users(
        {m.member.user_id for m in memberships if m.member.user_id is not None}
    )
    return {
        m.member_id: RecipientFacts(
            name=m.member.display_name,
            community=community.name,
            configurations=configurations.get(m.member_id, []),
            iban=m.iban,
            missing=missing_data(m, consenting),
            due_date=due_date,
        )
        for m in memberships
    }
