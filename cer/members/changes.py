"""Changing a person's shared data and a membership's IBAN: who may, what is logged, who is told.

A person is one `Member` shared by every community they join; a membership holds what
one community pays them with. So a community's managers change the IBAN of their own
membership only, and the shared data only while the person belongs to no community
they do not manage; the person and the platform staff change everything. Every change
is logged once per community it concerns, with personal data masked, and a changed IBAN
is announced to the person at once (cer.members.notices: inbox and e-mail; a plain
e-mail to a member without an account).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cer.access.rules import MANAGER_ROLES
from cer.audit.services import record
from cer.communities.models import Community
from cer.core.validators import normalise_code, validate_iban
from cer.members import notices
from cer.members.models import Member, Membership

logger = logging.getLogger(__name__)

# Everything on Member is the person's and shared by all their communities.
SHARED_FIELDS = frozenset({*Member.PERSONAL_FIELDS, "municipality_id"})
# Never copied into the audit log, which outlives erasure requests: shown as [old]/[new].
# Only the kind of person, the category and the municipality are not personal data.
PERSONAL_FIELDS = SHARED_FIELDS - {"kind", "category", "municipality", "municipality_id"}
SHARED_REFUSAL = _("shared with another community: the person changes it in their own profile")


class SharedWithAnotherCommunity(Exception):
    """The actor may not change these fields: the person belongs to another community too."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


def mask_iban(iban: str) -> str:
    """Return the country, check digits and last four characters: `IT60…3456`."""
    code = normalise_code(iban or "")
    if not code:
        return ""
    if len(code) <= 8:
        return f"{code[:2]}…"
    return f"{code[:4]}…{code[-4:]}"


def _is_staff(actor: Any) -> bool:
    return bool(
        getattr(actor, "is_authenticated", False) and (actor.is_superuser or actor.is_staff)
    )


def _is_the_person(actor: Any, member: Member) -> bool:
    return bool(
        getattr(actor, "is_authenticated", False)
        and member.user_id is not None
        and member.user_id == actor.pk
    )


def _managed_community_ids(actor: Any, today: dt.date) -> set[int]:
    if not getattr(actor, "is_authenticated", False):
        return set()
    return set(
        Membership.objects.active_on(today)
        .filter(member__user_id=actor.pk, role__in=MANAGER_ROLES)
        .values_list("community_id", flat=True)
    )


def community_ids_of(member: Member, *, today: dt.date) -> list[int]:
    """The communities the person belongs to on `today` or will belong to, in id order."""
    return sorted(
        set(
            Membership.objects.not_ended_on(today)
            .filter(member=member)
            .values_list("community_id", flat=True)
        )
    )


def may_change_shared_data(*, member: Member, actor: Any, today: dt.date) -> bool:
    """True for the person, the platform staff, and a manager of every community of the person."""
    if _is_staff(actor) or _is_the_person(actor, member):
        return True
    return set(community_ids_of(member, today=today)) <= _managed_community_ids(actor, today)


def check_shared_changes(
    *, member: Member, actor: Any, changed: Iterable[str], today: dt.date
) -> None:
    """Refuse a change to the person's shared data that the actor may not make.

    Raises SharedWithAnotherCommunity naming the fields.
    """
    fields = sorted(name for name in changed if name in SHARED_FIELDS)
    if fields and not may_change_shared_data(member=member, actor=actor, today=today):
        raise SharedWithAnotherCommunity(fields)


def memberships_for_iban(*, member: Member, actor: Any, today: dt.date) -> list[Membership]:
    """The not-ended memberships whose IBAN the actor may set: theirs for the person and the
    staff, those of the communities they manage for a manager."""
    memberships = Membership.objects.not_ended_on(today).filter(member=member)
    if not (_is_staff(actor) or _is_the_person(actor, member)):
        memberships = memberships.filter(community_id__in=_managed_community_ids(actor, today))
    return list(memberships.select_related("community", "member").order_by("community_id"))


def masked_changes(changes: dict[str, list[Any]]) -> dict[str, list[str]]:
    """Return `{field: [old, new]}` as strings, personal data as `[old]`/`[new]`."""
    return {
        name: ["[old]", "[new]"]
        if name in PERSONAL_FIELDS
        else ["" if old is None else str(old), "" if new is None else str(new)]
        for name, (old, new) in changes.items()
    }


def record_member_change(
    *, member: Member, actor: Any, now: dt.datetime, changes: dict[str, list[Any]]
) -> None:
    """Log a change of the person's data once for each community they belong to.

    The person is shared: each community's managers must see what changed in their
    member's record, whoever changed it. `changes` maps a field to `[old, new]`.
    """
    ids = community_ids_of(member, today=timezone.localdate(now))
    communities: list[Community | None] = list(Community.objects.filter(pk__in=ids).order_by("pk"))
    for community in communities or [None]:
        record(
            actor=actor,
            code="members.member.changed",
            now=now,
            target=member,
            community=community,
            changes=masked_changes(changes),
        )


def set_iban(*, membership: Membership, iban: str, actor: Any, now: dt.datetime) -> bool:
    """Set the IBAN of one membership; log it for that community and tell the person.

    Returns False when the IBAN was already that one. Raises ValidationError on `iban`.
    """
    code = normalise_code(iban or "")
    if code:
        try:
            validate_iban(code)
        except ValidationError as error:
            raise ValidationError({"iban": error.messages}) from error
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update()
            .select_related("community", "member")
            .get(pk=membership.pk)
        )
        before = locked.iban
        if before == code:
            return False
        locked.iban = code
        locked.save(update_fields=["iban"])
        membership.iban = code
        record_iban_change(membership=locked, before=before, actor=actor, now=now)
    return True


def record_iban_change(
    *, membership: Membership, before: str, actor: Any, now: dt.datetime
) -> None:
    """Log a saved IBAN change for the membership's community and e-mail the person on commit.

    For code that saved the membership itself (the admin); others call set_iban.
    """
    record(
        actor=actor,
        code="members.membership.iban_changed",
        now=now,
        target=membership,
        community=membership.community,
        changes={"iban": [mask_iban(before), mask_iban(membership.iban)]},
    )
    membership_id = membership.pk
    transaction.on_commit(lambda: _send_iban_notice(membership_id, actor, now))


# What the role, kind, dates and community of a membership are: access and money.
MEMBERSHIP_FIELDS = ("member_id", "community_id", "role", "kind", "valid_from", "valid_to")


def record_membership_saved(
    *, membership: Membership, before: Membership | None, actor: Any, now: dt.datetime
) -> None:
    """Log a membership created or changed by code that saved it itself (the admin).

    `before` is the row as it was (None for a new one). A changed IBAN is announced
    to the person as by set_iban.
    """
    if before is None:
        record(
            actor=actor,
            code="members.membership.created",
            now=now,
            target=membership,
            community=membership.community,
            changes={
                "role": ["", membership.role],
                "valid_from": ["", str(membership.valid_from)],
                "iban": ["", mask_iban(membership.iban)],
            },
        )
        return
    changes = {
        name: [getattr(before, name), getattr(membership, name)]
        for name in MEMBERSHIP_FIELDS
        if getattr(before, name) != getattr(membership, name)
    }
    if changes:
        record(
            actor=actor,
            code="members.membership.changed",
            now=now,
            target=membership,
            community=membership.community,
            changes=masked_changes(changes),
        )
    if before.iban != membership.iban:
        record_iban_change(membership=membership, before=before.iban, actor=actor, now=now)


def record_membership_deleted(*, membership: Membership, actor: Any, now: dt.datetime) -> None:
    """Log a membership about to be deleted (the admin); history is normally ended instead."""
    record(
        actor=actor,
        code="members.membership.deleted",
        now=now,
        target=membership,
        community=membership.community,
        changes={
            "role": [membership.role, ""],
            "valid_from": [str(membership.valid_from), ""],
            "iban": [mask_iban(membership.iban), ""],
        },
    )


# The notice ---------------------------------------------------------------------------

# Sent in Italian whatever language the actor's page was in: it is a security notice to
# the person, and every member's contract with the community is in Italian.
_SUBJECT = "IBAN modificato per la comunità {community}"
_BODY = (
    "Il tuo IBAN per la comunità {community} è stato modificato da {actor} il {date} "
    "alle {time}.\n"
    "Nuovo IBAN: {iban}\n\n"
    "I prossimi pagamenti della comunità andranno su questo conto. Se non hai chiesto tu "
    "la modifica, avvisa subito il referente della comunità e controlla il tuo profilo.\n"
)


def _actor_name(actor: Any) -> str:
    if not getattr(actor, "is_authenticated", False):
        return "la piattaforma"
    return actor.get_full_name() or actor.get_username()


def _send_iban_notice(membership_id: int, actor: Any, now: dt.datetime) -> None:
    """Tell the person: through the notification centre when they have an account (in
    their inbox, and by e-mail at once to the account's address, retried until it goes),
    and by a plain e-mail to the member's address unless that is the same address: a
    fraud that changed the account's e-mail must not silence the member's own one."""
    membership = Membership.objects.select_related("community", "member__user").get(
        pk=membership_id
    )
    user = membership.member.user
    if user is not None and user.is_active:
        try:
            notices.iban_changed(
                user,
                community=membership.community,
                context={
                    "actor": _actor_name(actor),
                    "at": now,
                    "iban": mask_iban(membership.iban) or "—",
                },
                now=now,
            )
        except Exception:
            # A notice never undoes the change; the failure is in the log.
            logger.exception("IBAN change notice for membership %s failed", membership_id)
    address = membership.member.email
    if user is not None and user.is_active and address.lower() == (user.email or "").lower():
        return
    if not address:
        return
    local = timezone.localtime(now)
    context = {
        "community": membership.community.name,
        "actor": _actor_name(actor),
        "date": f"{local:%d/%m/%Y}",
        "time": f"{local:%H:%M}",
        "iban": mask_iban(membership.iban) or "nessuno (IBAN rimosso)",
    }
    sent = send_mail(
        _SUBJECT.format(**context), _BODY.format(**context), None, [address], fail_silently=True
    )
    if not sent:
        logger.warning("IBAN change notice for membership %s not sent", membership_id)
