"""Which account a digital identity opens (docs/spid-cie.md, "Linking").

1. An identity already linked opens its account.
2. Otherwise the member with that tax code (the tax code is unique among members, so
   there is at most one) opens their account: the one already tied to the member, or a
   new one made for them and tied to the member (one member, one user).
3. Otherwise a *pending* account is made, inactive: it cannot log in until a member with
   that tax code is registered by a community's manager (the next login then ties them
   together and activates it) or a platform administrator activates it in the admin site.

Every link, new account and activation is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from cer.audit.services import record
from cer.eid.models import IdentityLink, tax_code_index
from cer.members.models import Member


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a provider vouched for, whatever the protocol."""

    provider: str  # Provider value
    issuer: str
    subject: str
    tax_code: str
    first_name: str
    last_name: str
    email: str
    level: int


@dataclass(frozen=True)
class Outcome:
    user: Any
    link: IdentityLink
    # "known", "member", "member_new_account", "pending", "activated"
    how: str

    @property
    def may_log_in(self) -> bool:
        return bool(self.user.is_active)


def link_identity(identity: VerifiedIdentity, *, now: dt.datetime) -> Outcome:
    """Find or make the account `identity` opens, and note this login on its link."""
    with transaction.atomic():
        link = (
            IdentityLink.objects.select_for_update()
            .select_related("user")
            .filter(provider=identity.provider, tax_code_index=tax_code_index(identity.tax_code))
            .first()
        )
        member = Member.objects.with_fiscal_code(identity.tax_code).select_related("user").first()
        if link is not None:
            how = "known"
            if not link.user.is_active and member is not None:
                how = _claim_pending(link, member, now=now)
        elif member is not None:
            how = "member" if member.user is not None else "member_new_account"
            user = member.user or _tie_new_user(member, identity, now=now)
            link = _new_link(user, identity, now=now)
        else:
            how = "pending"
            link = _new_link(_pending_user(identity, now=now), identity, now=now)
        link.issuer = identity.issuer
        link.subject = identity.subject[:300]
        link.level = identity.level
        link.last_login_at = now
        link.save()
    return Outcome(user=link.user, link=link, how=how)


def _new_link(user: Any, identity: VerifiedIdentity, *, now: dt.datetime) -> IdentityLink:
    link = IdentityLink(
        user=user,
        provider=identity.provider,
        issuer=identity.issuer,
        subject=identity.subject[:300],
        tax_code=identity.tax_code,
        level=identity.level,
        first_login_at=now,
        last_login_at=now,
    )
    link.save()
    record(
        actor=user,
        code="eid.identity.linked",
        now=now,
        target=user,
        changes={"provider": identity.provider, "issuer": identity.issuer},
    )
    return link


def _username() -> str:
    while True:
        name = f"eid-{secrets.token_hex(5)}"
        if not User.objects.filter(username=name).exists():
            return name


def _new_user(identity: VerifiedIdentity, *, active: bool) -> User:
    user = User(
        username=_username(),
        first_name=identity.first_name[:150],
        last_name=identity.last_name[:150],
        email=identity.email[:254],
        is_active=active,
    )
    user.set_unusable_password()  # a digital identity, not a password, opens it
    user.save()
    return user


def _tie_new_user(member: Member, identity: VerifiedIdentity, *, now: dt.datetime) -> User:
    user = _new_user(identity, active=True)
    member.user = user
    member.save(update_fields=["user"])
    record(actor=user, code="eid.account.created", now=now, target=member)
    return user


def _pending_user(identity: VerifiedIdentity, *, now: dt.datetime) -> User:
    user = _new_user(identity, active=False)
    record(
        actor=None,
        code="eid.account.pending",
        now=now,
        target=user,
        changes={"provider": identity.provider},
    )
    return user


def _claim_pending(link: IdentityLink, member: Member, *, now: dt.datetime) -> str:
    """A pending account whose tax code is now a member's: tie them, or move the link to
    the member's own account when they already have one."""
    if member.user is None:
        member.user = link.user
        member.save(update_fields=["user"])
        link.user.is_active = True
        link.user.save(update_fields=["is_active"])
        record(actor=link.user, code="eid.account.activated", now=now, target=member)
    else:
        record(
            actor=member.user,
            code="eid.identity.moved",
            now=now,
            target=member,
            changes={"from_user": link.user.pk},
        )
        link.user = member.user
    return "activated"
