"""Founding documents through the API: drafting the statute and regulation again, and
downloading a member's mandate contract (the same services as the archive page)."""

from __future__ import annotations

import io
from decimal import Decimal

import docx
import pytest
from django.utils import timezone

from cer.distribution import services as distribution
from cer.documents.models import Document
from cer.members.models import Membership
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_referente_drafts_the_statute_again_through_the_api(personas, community):
    distribution.set_policy(
        community=community,
        valid_from=community.founding_date,
        pots=[],
        components=[{"basis": "EQUAL", "percent": Decimal("100")}],
        actor=None,
        now=timezone.now(),
    )
    client = client_for(personas["referente"])

    response = client.post(f"/api/v1/communities/{community.pk}/documents/redraft")

    assert response.status_code == 201, response.content
    assert sorted(row["kind"] for row in response.json()) == ["REGULATION", "STATUTE"]
    statute = Document.objects.get(community=community, kind="STATUTE").latest_version
    paragraphs = [p.text for p in docx.Document(statute.file.open("rb")).paragraphs]
    assert any("in parti uguali tra i soci" in text for text in paragraphs)


def test_a_member_cannot_draft_the_statute_through_the_api(personas, community):
    client = client_for(personas["member"])

    response = client.post(f"/api/v1/communities/{community.pk}/documents/redraft")

    assert response.status_code == 403
    assert not Document.objects.filter(community=community).exists()


def test_the_member_and_the_referente_download_the_mandate_others_do_not(personas, community):
    membership = Membership.objects.get(member__user=personas["member"])
    url = f"/api/v1/memberships/{membership.pk}/mandate"

    own_pdf = client_for(personas["member"]).get(f"{url}.pdf")
    by_referente = client_for(personas["referente"]).get(f"{url}.docx")
    by_outsider = client_for(personas["outsider"]).get(f"{url}.pdf")

    assert own_pdf.status_code == 200
    assert own_pdf.content.startswith(b"%PDF-")
    assert by_referente.status_code == 200
    first = docx.Document(io.BytesIO(by_referente.content)).paragraphs[0].text
    assert membership.member.display_name in first
    assert by_outsider.status_code == 404
