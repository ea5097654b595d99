"""Small builders for test data: valid by default, override what a test is about."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.contrib.auth.models import User
from stdnum import luhn
from stdnum.it import codicefiscale

from cer.communities.models import Community, Configuration
from cer.core.models import Municipality
from cer.members.models import Member, Membership
from cer.plants.models import ConnectionPoint, Plant

_sequence = itertools.count(1)
SPINEA = "027038"


def valid_vat_number(seed: int) -> str:
    """Return an 11-digit partita IVA with a correct check digit."""
    body = f"{seed:07d}027"  # company number and Venezia's province office
    return body + luhn.calc_check_digit(body)


def valid_personal_code(seed: int) -> str:
    """Return a 16-character codice fiscale with a correct check character."""
    body = f"RSSMRA{80 + seed % 20:02d}A{1 + seed % 28:02d}I908"
    return body + codicefiscale.calc_check_digit(body)


def valid_pod(seed: int) -> str:
    return f"IT001E{seed:08d}"


def make_community(**overrides: object) -> Community:
    fields = {
        "name": "CER Prova",
        "kind": "CER",
        "legal_form": "THIRD_SECTOR",
        "fiscal_code": valid_vat_number(9_000_000 + next(_sequence)),
        "seat_address": "Piazza Marconi 1",
        "seat_municipality": Municipality.objects.get(pk=SPINEA),
        "founding_date": dt.date(2024, 9, 12),
    }
    fields.update(overrides)
    community = Community.objects.create(**fields)
    Configuration.objects.create(
        community=community,
        name="Cabina Spinea",
        primary_substation=f"AC001E{next(_sequence):05d}",
        market_zone="NORD",
        region="Veneto",
    )
    return community


def make_member(**overrides: object) -> Member:
    seed = next(_sequence)
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


# The account a community pays a membership to: the IBAN is the membership's.
IBAN = "IT60X0542811101000000123456"


def make_user_with_role(community: Community, *, role: str, username: str) -> User:
    user = User.objects.create_user(username=username, password="prova-password-2025")
    member = make_member(user=user)
    Membership.objects.create(
        member=member, community=community, role=role, valid_from=dt.date(2024, 9, 12), iban=IBAN
    )
    return user


def make_connection_point(community: Community, holder: Member, **overrides: object):
    fields = {
        "pod": valid_pod(next(_sequence)),
        "configuration": community.configurations.first(),
        "holder": holder,
        "contracted_power_kw": Decimal("4.5"),
    }
    fields.update(overrides)
    return ConnectionPoint.objects.create(**fields)


def make_plant(point: ConnectionPoint, **overrides: object) -> Plant:
    fields = {
        "connection_point": point,
        "owner": point.holder,
        "name": "FV tetto",
        "source": "PV",
        "power_kw": Decimal("19.800"),
        "entry_into_service_date": dt.date(2024, 11, 5),
    }
    fields.update(overrides)
    return Plant.objects.create(**fields)


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


def make_document(community: Community, *, kind: str = "STATUTE", content: bytes = b""):
    """Store a small PDF as version 1 of a document (under the test's MEDIA_ROOT)."""
    from django.utils import timezone

    from cer.documents.services import ACCEPTED, create_document

    return create_document(
        community=community,
        kind=kind,
        title=f"Documento {next(_sequence)}",
        document_date=dt.date(2025, 3, 30),
        content=content or b"%PDF-1.4\n%prova\n",
        file_type=ACCEPTED["pdf"],
        original_name="statuto.pdf",
        actor=None,
        now=timezone.now(),
    )


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

    seed = next(_sequence)
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
