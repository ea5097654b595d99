"""A community document stored as version 1 of a small PDF."""

from __future__ import annotations

import datetime as dt

from cer.communities.models import Community
from tests.factories.identifiers import next_seed


def make_document(community: Community, *, kind: str = "STATUTE", content: bytes = b""):
    """Store a small PDF as version 1 of a document (under the test's MEDIA_ROOT)."""
    from django.utils import timezone

    from cer.documents.services import ACCEPTED, create_document

    return create_document(
        community=community,
        kind=kind,
        title=f"Documento {next_seed()}",
        document_date=dt.date(2025, 3, 30),
        content=content or b"%PDF-1.4\n%prova\n",
        file_type=ACCEPTED["pdf"],
        original_name="statuto.pdf",
        actor=None,
        now=timezone.now(),
    )
