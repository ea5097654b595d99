"""What the documents app tells people: a document waiting for their signature.

There is no signature workflow yet. When one comes, it calls `document_to_sign` for the
people whose signature a document needs; the topic is registered now so that people can
see it on their preferences page and the workflow has one call to make.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from cer.documents.models import Document
from cer.notifications import links, topics
from cer.notifications.models import Notification
from cer.notifications.services import notify

DOCUMENT_TO_SIGN = topics.register(
    topics.Topic(
        code="documents.document.to_sign",
        title=_("A document waiting for your signature"),
        subject=_("{community}: “{title}” waits for your signature"),
        body=_(
            "{community} asks you to sign “{title}” ({kind}, dated {document_date}). Open the "
            "community's documents to read and sign it."
        ),
    )
)


def document_to_sign(
    document: Document, signers: Iterable[Any], now: dt.datetime
) -> list[Notification]:
    """Tell each signer (users) that `document` waits for their signature, once each.

    Call it after the commit of the step that asks for the signatures.
    """
    community = document.community
    return notify(
        signers,
        DOCUMENT_TO_SIGN.code,
        {
            "community": community.name,
            "title": document.title,
            "kind": document.get_kind_display(),
            "document_date": document.document_date,
        },
        link=links.site_path("documents:archive", community.pk),
        now=now,
        community=community,
        dedupe_key=f"document-to-sign:{document.pk}",
    )
