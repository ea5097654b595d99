"""Signing by the platform: a PAdES seal on the PDFs the community itself issues.

The key and certificate are the operator's (settings `PLATFORM_SIGNING_KEY_FILE` and
`PLATFORM_SIGNING_CERT_FILE` with `PLATFORM_SIGNING_CHAIN_FILES`, or
`PLATFORM_SIGNING_PKCS12_FILE`; the passphrase is read from the environment variable named
by `PLATFORM_SIGNING_KEY_PASSPHRASE_ENV`). With `PLATFORM_TSA_URL` set, the signature
carries an RFC 3161 timestamp from that authority. All the signing is pyHanko's.

When nothing is configured `seal_pdf` raises SealingOff: a caller never receives an
unsigned PDF it believes sealed.
"""

from __future__ import annotations

import io
import os
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper

# The signature field the platform's seal goes into.
FIELD_NAME = "CerCollettivaSeal"


class SealingOff(Exception):
    """Raised when the platform has no signing key configured (or cannot load it)."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def is_configured() -> bool:
    """Tell whether the operator configured a signing key and certificate."""
    return bool(
        settings.PLATFORM_SIGNING_PKCS12_FILE
        or (settings.PLATFORM_SIGNING_KEY_FILE and settings.PLATFORM_SIGNING_CERT_FILE)
    )


def platform_signer() -> signers.SimpleSigner:
    """Load the platform's signer from the configured files; raise SealingOff if absent."""
    if not is_configured():
        raise SealingOff(
            _(
                "The platform has no signing key: set PLATFORM_SIGNING_KEY_FILE and "
                "PLATFORM_SIGNING_CERT_FILE, or PLATFORM_SIGNING_PKCS12_FILE."
            )
        )
    passphrase_text = os.environ.get(settings.PLATFORM_SIGNING_KEY_PASSPHRASE_ENV, "")
    passphrase = passphrase_text.encode() if passphrase_text else None
    signer: signers.SimpleSigner | None
    if settings.PLATFORM_SIGNING_PKCS12_FILE:
        signer = signers.SimpleSigner.load_pkcs12(
            settings.PLATFORM_SIGNING_PKCS12_FILE,
            ca_chain_files=settings.PLATFORM_SIGNING_CHAIN_FILES or None,
            passphrase=passphrase,
        )
    else:
        signer = signers.SimpleSigner.load(
            settings.PLATFORM_SIGNING_KEY_FILE,
            settings.PLATFORM_SIGNING_CERT_FILE,
            ca_chain_files=settings.PLATFORM_SIGNING_CHAIN_FILES or None,
            key_passphrase=passphrase,
        )
    if signer is None:
        raise SealingOff(_("The platform's signing key or certificate could not be read."))
    return signer


def seal_pdf(pdf_bytes: bytes, reason: str, *, timestamper: Any = None) -> bytes:
    """Return `pdf_bytes` with the platform's PAdES signature, giving `reason`.

    Raises SealingOff when no key is configured. `timestamper` overrides the TSA of
    `PLATFORM_TSA_URL` (the tests pass a local one).
    """
    signer = platform_signer()
    if timestamper is None and settings.PLATFORM_TSA_URL:
        timestamper = HTTPTimeStamper(settings.PLATFORM_TSA_URL)
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=reason,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    output = signers.sign_pdf(writer, metadata, signer=signer, timestamper=timestamper)
    return output.getvalue()
