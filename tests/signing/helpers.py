"""People, certificates and files for the signature workflow tests.

Two founders of a community, each with an account and a qualified certificate of the
local test CA (tests/documents/pki.py) carrying their tax code; a statute as a real PDF.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils import timezone

from cer.documents import drafting
from cer.members.models import Membership
from tests import factories
from tests.documents import pki as test_pki

PASSWORD = "prova-password-2025"


@dataclass
class Founder:
    user: User
    tax_code: str
    party: test_pki.Party


def statute_pdf() -> bytes:
    return drafting.to_pdf(
        [drafting.Block("title", "Statuto"), drafting.Block("paragraph", "Art. 1 Costituzione")],
        title="Statuto",
    )


def make_founder(community, pki, username: str, first: str, last: str) -> Founder:
    user = User.objects.create_user(username, f"{username}@example.org", PASSWORD)
    member = factories.make_member(
        user=user, first_name=first, last_name=last, email=f"{username}@example.org"
    )
    Membership.objects.create(
        member=member,
        community=community,
        role="MEMBER",
        valid_from=dt.date(2024, 9, 12),
        iban=factories.IBAN,
    )
    code = str(member.fiscal_code).upper()
    party = test_pki.issue(
        test_pki._name(cn=f"{first} {last}", given=first, surname=last, serial=f"TINIT-{code}"),
        pki.intermediate,
        qualified=True,
    )
    return Founder(user=user, tax_code=code, party=party)


def make_statute(community, content: bytes | None = None):
    """A statute in the archive: its first version holds a real PDF."""
    from cer.documents.services import ACCEPTED, create_document

    return create_document(
        community=community,
        kind="STATUTE",
        title="Statuto della CER",
        document_date=dt.date(2025, 3, 30),
        content=content or statute_pdf(),
        file_type=ACCEPTED["pdf"],
        original_name="statuto.pdf",
        actor=None,
        now=timezone.now(),
    )
