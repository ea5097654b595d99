"""The archive's word on a document sent for signature: executed, or waiting.

Registered with cer.documents.models.DOCUMENT_STATES, so the archive page shows it without
the documents app knowing of this one.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from cer.documents.models import DOCUMENT_STATES
from cer.signing.models import RequestStatus, SignatureRequest


def document_state(document: Any) -> str:
    """Say whether the document was executed by signature, or waits for signatures."""
    latest = (
        SignatureRequest.objects.filter(version__document=document)
        .exclude(status=RequestStatus.CANCELLED)
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is None:
        return ""
    if latest.status == RequestStatus.EXECUTED:
        return _("executed: signed by everyone")
    return _("waiting for signatures")


DOCUMENT_STATES.append(document_state)
