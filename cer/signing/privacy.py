"""What the signature workflow keeps about a person, for the GDPR export.

Registered with cer.privacy.contributions by SigningConfig.ready. The signatures asked of
a member, their uploads' results and the evidence of a simple electronic signature (IP
address, browser) are the proof that a document was signed: kept as long as the document
itself, so no retention rule deletes them; the export shows them.
"""

from __future__ import annotations

from typing import Any

from cer.privacy.contributions import register_export_section
from cer.signing.models import Signer


def member_signatures(member: Any) -> list[dict[str, Any]]:
    """The signatures asked of the member's account, one dict each."""
    if member.user_id is None:
        return []
    rows = Signer.objects.filter(user_id=member.user_id).select_related(
        "request__version__document"
    )
    result = []
    for signer in rows.order_by("pk"):
        proof = getattr(signer, "evidence", None)
        result.append(
            {
                "document": signer.request.document.title,
                "kind": signer.request.kind,
                "status": signer.status,
                "signed_at": signer.signed_at,
                "uploads": [
                    {"file": f.original_name, "accepted": f.accepted, "at": f.uploaded_at}
                    for f in signer.files.all()
                ],
                "evidence": (
                    {
                        "ip_address": proof.ip_address,
                        "user_agent": proof.user_agent,
                        "code_sent_at": proof.code_sent_at,
                        "channels": proof.channels,
                    }
                    if proof is not None
                    else None
                ),
            }
        )
    return result


def register() -> None:
    register_export_section("signatures", member_signatures)
