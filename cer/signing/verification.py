"""Whether an uploaded file is the expected person's valid signature over the version sent.

cer.documents.signatures verifies the signatures a file carries; this module asks the
workflow's three questions of that result, for one signer:

1. Did the expected person sign? A signature whose certificate carries the signer's tax
   code (other signatures, earlier signers' counter-signed ones, may be there too).
2. Is that signature valid, and qualified? Status VALID at its signing time (not
   expired, revoked, modified, and chained to a trust anchor), with QcCompliance.
3. Is the signed content the version sent? CAdES: the innermost signed content hashes to
   the request's SHA-256. PAdES: the file sent is a prefix of the uploaded PDF (signing
   appends an incremental update and never rewrites what was there) and that signature's
   byte range covers the whole of it, so the person signed a revision that contains the
   document sent, byte for byte. A counter-signature on an already signed copy keeps both.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from pyhanko.pdf_utils.reader import PdfFileReader

from cer.documents import signatures

# Codes of the refusals, said in words by `refusal_text`.
REFUSALS = (
    "unreadable",
    "no_signature",
    "wrong_signer",
    "not_valid",
    "not_qualified",
    "other_version",
)


@dataclass
class Judgement:
    """What an upload proves for one signer: the report, and why it is refused if it is."""

    report: signatures.SignatureReport | None
    refusals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.report is not None and not self.refusals


def judge(
    content: bytes, filename: str, *, tax_code: str, sent: bytes, sent_sha256: str
) -> Judgement:
    """Verify `content` and tell whether it is `tax_code`'s valid signature over `sent`."""
    try:
        report = signatures.verify(content, filename)
    except signatures.NotSigned as refusal:
        return Judgement(None, [{"code": "unreadable", "detail": str(refusal.message)}])
    if not report.signers:
        return Judgement(report, [{"code": "no_signature"}])
    positions = [i for i, s in enumerate(report.signers) if s.tax_code == tax_code.upper()]
    if not positions:
        found = ", ".join(f"{s.name} ({s.tax_code or '?'})" for s in report.signers)
        return Judgement(report, [{"code": "wrong_signer", "detail": found}])
    refusals: list[dict[str, Any]] = []
    # The person may have signed more than once (a second try): one good signature is enough.
    theirs = [report.signers[i] for i in positions]
    best = next((s for s in theirs if s.status == signatures.VALID), theirs[0])
    if best.status != signatures.VALID:
        # Kept as codes, said in the reader's language when shown.
        refusals.append({"code": "not_valid", "reasons": [r.as_json() for r in best.reasons]})
    elif not best.qualified:
        refusals.append({"code": "not_qualified"})
    if report.format == signatures.CADES:
        covers = report.content_sha256 == sent_sha256
    else:
        covers = _pdf_contains_sent(content, sent, tax_code.upper())
    if not covers:
        refusals.append({"code": "other_version"})
    return Judgement(report, refusals)


def _pdf_contains_sent(content: bytes, sent: bytes, tax_code: str) -> bool:
    """Tell whether one of `tax_code`'s PDF signatures covers every byte of `sent`."""
    if not content.startswith(sent):
        return False
    try:
        embedded = list(PdfFileReader(io.BytesIO(content), strict=False).embedded_signatures)
    except Exception:
        return False
    for signature in embedded:
        _name, code = signatures.signer_identity(signature.signer_cert)
        if code != tax_code:
            continue
        start, signed_head, *_rest = (int(n) for n in signature.byte_range)
        # The signed bytes run from 0 to the hole holding the signature itself: the file
        # sent must end before the hole.
        if start == 0 and signed_head >= len(sent):
            return True
    return False


def refusal_text(refusal: dict[str, Any]) -> str:
    """Say one refusal in the active language."""
    detail = refusal.get("detail") or ""
    code = refusal["code"]
    if code == "unreadable":
        return _("The file is not a signed envelope: %(detail)s") % {"detail": detail}
    if code == "no_signature":
        return _("The file carries no signature.")
    if code == "wrong_signer":
        return _("The file is not signed by the expected person; it is signed by: %(who)s.") % {
            "who": detail
        }
    if code == "not_valid":
        why = "; ".join(
            signatures.reason_text(r["code"], r["when"]) for r in refusal.get("reasons", [])
        )
        return _("The signature is not valid: %(why)s.") % {"why": why}
    if code == "not_qualified":
        return _("The signature is valid but its certificate is not qualified.")
    if code == "other_version":
        return _("The signed document is not the version sent for signature.")
    return _("The file was refused.")
