"""Members, their memberships and user accounts, invitations and applications to join."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User

from cer.communities.models import Community
from cer.core.models import Municipality
from cer.members.models import Member, Membership
from tests.factories.identifiers import IBAN, SPINEA, next_seed, valid_personal_code, valid_pod


def make_member(**overrides: object) -> Member:
    seed = next_seed()
    fields = {
        "kind": "NATURAL",
        "category": "HOUSEHOLD",
        "first_name": "Mario",
        "last_name": f"Rossi {seed}",
        "fiscal_code": valid_personal_code(seed),
        "email": f"socio{seed}@example.org",
        "address": "Via Roma 1",
        "municipality": Municipality.objects.get(pk=SPINEA),
    }
    fields.update(overrides)
    return Member.objects.create(**fields)


def make_user_with_role(community: Community, *, role: str, username: str) -> User:
    user = User.objects.create_user(username=username, password="prova-password-2025")
    member = make_member(user=user)
    Membership.objects.create(
        member=member, community=community, role=role, valid_from=dt.date(2024, 9, 12), iban=IBAN
    )
    return user


def make_membership(community: Community, **overrides: object) -> Membership:
    fields = {
        "member": make_member(),
        "community": community,
        "role": "MEMBER",
        "valid_from": dt.date(2024, 9, 12),
        "iban": IBAN,
    }
    fields.update(overrides)
    return Membership.objects.create(**fields)


def make_invitation(community: Community, *, email: str = "nuovo@example.org", **overrides):
    """Return an invitation and its token (the link's secret), valid for 14 days by default."""
    import secrets

    from django.utils import timezone

    from cer.members.models import Invitation
    from cer.members.services import hash_token

    token = secrets.token_urlsafe(32)
    now = timezone.now()
    fields = {
        "community": community,
        "email": email,
        "token_hash": hash_token(token),
        "created_at": now,
        "expires_at": now + dt.timedelta(days=14),
    }
    fields.update(overrides)
    return Invitation.objects.create(**fields), token


def make_application(community: Community, **overrides: object):
    """Return a submitted application by a new user, declaring one POD."""
    from django.utils import timezone

    from cer.members.models import MembershipApplication

    seed = next_seed()
    invitation, _token = make_invitation(community, email=f"candidato{seed}@example.org")
    user = User.objects.create_user(username=f"candidato{seed}", password="prova-password-2025")
    fields = {
        "community": community,
        "invitation": invitation,
        "user": user,
        "member": make_member(user=user),
        "status": "SUBMITTED",
        "step": "DONE",
        "declared_points": [
            {
                "pod": valid_pod(900_000 + seed),
                "configuration_id": community.configurations.first().pk,
                "contracted_power_kw": "3.000",
                "has_withdrawal": True,
                "has_injection": False,
                "address": "Via Roma 2",
            }
        ],
        "started_at": timezone.now(),
        "submitted_at": timezone.now(),
    }
    fields.update(overrides)
    return MembershipApplication.objects.create(**fields)
