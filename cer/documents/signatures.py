"""Verification of signed uploads: PAdES (signed PDF) and CAdES (`.p7m`, nested envelopes).

Every cryptographic step is pyHanko's (pyhanko-certvalidator for the chain and the
revocation data): this module only gathers what a signed file carries, asks pyHanko, and
turns the answer into a result a person can read. Revocation is checked against what is
embedded (CRLs and OCSP responses in the CMS or in the PDF's DSS); the network is used only
when `SIGNATURE_ALLOW_FETCHING` is on. The chain is checked against the CA certificates in
`SIGNATURE_TRUST_ANCHORS_DIR` (docs/signatures.md says how to fill it from the EU trusted
list). Validity is judged at the signing time the signer declares: a certificate that
expired or was revoked before that moment makes the signature invalid.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import cms, pem, x509
from asn1crypto import crl as asn1_crl
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades import qualified_asn1
from pyhanko.sign.validation import async_validate_cms_signature, validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.generic_cms import extract_self_reported_ts
from pyhanko.sign.validation.status import SignatureCoverageLevel, StandardCMSSignatureStatus
from pyhanko_certvalidator import ValidationContext

from cer.core import formatting

VALID, INVALID, INDETERMINATE = "VALID", "INVALID", "INDETERMINATE"
# The worst status of the signers is the file's status.
_SEVERITY = {VALID: 0, INDETERMINATE: 1, INVALID: 2}
PADES, CADES = "PADES", "CADES"
# Envelopes inside envelopes are unwrapped up to this depth; deeper is refused.
MAX_NESTING = 8
_TAX_CODE = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]"
)


class NotSigned(Exception):
    """Raised when a file presented as a CAdES envelope is not CMS signed data."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Reason:
    """Why a signature is not valid, as a code the result text is written from.

    Codes: no_signature, modified, expired (`when` = the certificate's end),
    not_yet_valid, untrusted_chain, revoked (`when` = the revocation), other_version,
    not_covered (the PDF was changed after signing beyond what signing allows),
    unchecked (pyHanko could not tell why).
    """

    code: str
    when: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "when": self.when.isoformat() if self.when else None}


@dataclass
class SignerResult:
    """One signer's signature: who, when, and what holds."""

    name: str
    tax_code: str
    signing_time: dt.datetime | None
    qualified: bool
    status: str
    reasons: list[Reason] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tax_code": self.tax_code,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "qualified": self.qualified,
            "status": self.status,
            "reasons": [r.as_json() for r in self.reasons],
        }


@dataclass
class SignatureReport:
    """What `verify` found: the format, every signer, and the readable content.

    `content` is the signed document: the PDF itself for PAdES, the innermost signed
    content for a `.p7m`. `reasons` holds the file-wide reasons (no signature, signed over
    another version); each signer carries its own.
    """

    format: str
    content: bytes
    signers: list[SignerResult]
    reasons: list[Reason] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.reasons and any(r.code != "unchecked" for r in self.reasons):
            return INVALID
        statuses = [s.status for s in self.signers] or [INVALID]
        return max(statuses, key=_SEVERITY.__getitem__)

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def is_envelope(content: bytes, filename: str) -> bool:
    """Tell whether an upload is to be read as a CAdES envelope (by name or by its bytes)."""
    if filename.lower().endswith(".p7m"):
        return True
    # DER SignedData opens with a SEQUENCE and the signedData OID 1.2.840.113549.1.7.2.
    return (
        content[:1] == b"\x30" and b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" in content[:32]
    )


def has_pdf_signatures(content: bytes) -> bool:
    """Tell whether a PDF carries at least one signature field with a signature."""
    if not content.startswith(b"%PDF-"):
        return False
    try:
        return bool(PdfFileReader(io.BytesIO(content), strict=False).embedded_signatures)
    except Exception:
        return False


def verify(
    file_bytes: bytes, filename: str, *, expected_sha256: str | None = None
) -> SignatureReport:
    """Verify a signed file and return what holds for each signer.

    A `.p7m` (or any CMS signed data) is unwrapped level by level; one that is not CMS
    raises NotSigned. Anything else is read as a PDF; a PDF without signatures gives an
    INVALID report with the reason `no_signature`. When `expected_sha256` is given (the
    hash of the version sent for signature), a signed content with another hash adds the
    reason `other_version`.
    """
    if is_envelope(file_bytes, filename):
        report = _verify_cades(file_bytes)
    else:
        report = _verify_pades(file_bytes)
    if expected_sha256 and report.content_sha256 != expected_sha256.lower():
        report.reasons.append(Reason("other_version"))
    return report


# -- CAdES ----------------------------------------------------------------------------


def _load_cms(data: bytes) -> cms.ContentInfo | None:
    """Return the CMS signed data in `data` (DER, PEM or bare base64), or None."""
    candidates = [data]
    if pem.detect(data):
        with contextlib.suppress(ValueError):
            candidates.append(pem.unarmor(data)[2])
    else:
        with contextlib.suppress(binascii.Error, ValueError):
            candidates.append(base64.b64decode(b"".join(data.split()), validate=True))
    for candidate in candidates:
        try:
            info = cms.ContentInfo.load(candidate, strict=True)
            # Parsing the signer infos now makes a truncated or garbled envelope fail here.
            if (
                info["content_type"].native == "signed_data"
                and info["content"]["signer_infos"].native is not None
            ):
                return info
        except (ValueError, TypeError, KeyError):
            continue
    return None


def _verify_cades(data: bytes) -> SignatureReport:
    info = _load_cms(data)
    if info is None:
        raise NotSigned(_("The file is named .p7m but is not a CMS signed envelope."))
    signers: list[SignerResult] = []
    content = data
    depth = 0
    while info is not None:
        depth += 1
        if depth > MAX_NESTING:
            raise NotSigned(_("The envelope is nested more than %(n)s times.") % {"n": MAX_NESTING})
        signed_data = info["content"]
        inner = signed_data["encap_content_info"]["content"]
        if inner.native is None:
            raise NotSigned(_("The envelope is detached: it does not carry the signed document."))
        signers.extend(_check_cms_signers(signed_data))
        content = inner.native
        info = _load_cms(content)
    return SignatureReport(format=CADES, content=content, signers=signers)


def _check_cms_signers(signed_data: cms.SignedData) -> list[SignerResult]:
    results = []
    crls, ocsps = _embedded_revocation(signed_data)
    certs = [c.chosen for c in signed_data["certificates"] or [] if c.name == "certificate"]
    for signer_info in signed_data["signer_infos"]:
        # pyHanko validates the first signer of a SignedData: one SignedData per signer.
        single = signed_data.copy()
        single["signer_infos"] = cms.SignerInfos([signer_info])
        claimed = _claimed_time(signer_info)
        context = _context(certs, crls, ocsps, claimed)
        status = asyncio.run(
            async_validate_cms_signature(
                single, status_cls=StandardCMSSignatureStatus, validation_context=context
            )
        )
        results.append(_judge(status, claimed, crls))
    return results


def _claimed_time(signer_info: cms.SignerInfo) -> dt.datetime | None:
    try:
        return extract_self_reported_ts(signer_info)
    except Exception:
        return None


def _embedded_revocation(signed_data: cms.SignedData) -> tuple[list[Any], list[Any]]:
    """Return the CRLs and OCSP responses the signature carries.

    From the SignedData's `crls` field and from each signer's Adobe revocation attribute
    (adbe-revocationInfoArchival), which is where PAdES signers put them.
    """
    crls: list[Any] = []
    ocsps: list[Any] = []
    for choice in signed_data["crls"] or []:
        if choice.name == "crl":
            crls.append(choice.chosen)
        elif choice.name == "other" and choice.chosen["other_rev_info_format"].dotted == (
            "1.3.6.1.5.5.7.16.2"
        ):
            ocsps.append(choice.chosen["other_rev_info"])
    for signer_info in signed_data["signer_infos"]:
        for attribute in signer_info["signed_attrs"] or []:
            if attribute["type"].native != "adobe_revocation_info_archival":
                continue
            for archival in attribute["values"]:
                crls.extend(archival["crl"] or [])
                ocsps.extend(archival["ocsp"] or [])
    return crls, ocsps


# -- PAdES ----------------------------------------------------------------------------


def _verify_pades(data: bytes) -> SignatureReport:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception:
        embedded = []
    if not embedded:
        return SignatureReport(
            format=PADES, content=data, signers=[], reasons=[Reason("no_signature")]
        )
    dss_certs: list[Any] = []
    dss_crls: list[Any] = []
    dss_ocsps: list[Any] = []
    dss = DocumentSecurityStore.read_dss(reader) if "/DSS" in reader.root else None
    if dss is not None:
        dss_certs = list(dss.certs.values())
        dss_crls = [c.get_object().data for c in dss.crls]
        dss_ocsps = [o.get_object().data for o in dss.ocsps]
    signers = []
    for signature in embedded:
        signed_data = signature.signed_data
        crls, ocsps = _embedded_revocation(signed_data)
        crls += [asn1_crl.CertificateList.load(c) for c in dss_crls]
        ocsps += dss_ocsps
        certs = [c.chosen for c in signed_data["certificates"] or [] if c.name == "certificate"]
        claimed = signature.self_reported_timestamp
        context = _context(certs + dss_certs, crls, ocsps, claimed)
        status = validate_pdf_signature(signature, signer_validation_context=context)
        result = _judge(status, claimed, crls)
        # Content added after the signature beyond what PAdES allows (new signatures, DSS,
        # timestamps) means the signed document is not what is shown now.
        if status.coverage is not SignatureCoverageLevel.ENTIRE_FILE and not status.docmdp_ok:
            result.reasons.append(Reason("not_covered"))
            result.status = INVALID
        signers.append(result)
    return SignatureReport(format=PADES, content=data, signers=signers)


# -- Shared ---------------------------------------------------------------------------


def trust_anchors() -> list[x509.Certificate]:
    """Load every CA certificate (PEM, possibly several in a file, or DER) in the folder."""
    folder = getattr(settings, "SIGNATURE_TRUST_ANCHORS_DIR", None)
    if not folder or not Path(folder).is_dir():
        return []
    anchors = []
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in {".pem", ".crt", ".cer", ".der"}:
            continue
        data = path.read_bytes()
        if pem.detect(data):
            anchors += [x509.Certificate.load(der) for _t, _h, der in pem.unarmor(data, True)]
        else:
            anchors.append(x509.Certificate.load(data))
    return anchors


def _context(
    certs: list[Any], crls: list[Any], ocsps: list[Any], moment: dt.datetime | None
) -> ValidationContext:
    return ValidationContext(
        trust_roots=trust_anchors(),
        other_certs=certs,
        crls=crls,
        ocsps=ocsps,
        moment=moment,
        allow_fetching=getattr(settings, "SIGNATURE_ALLOW_FETCHING", False),
        revocation_mode="soft-fail",
        # A CRL published after the signature still says whether the certificate was
        # revoked before it: the revocation date, not the CRL's date, is what counts.
        retroactive_revinfo=True,
    )


def signer_identity(cert: x509.Certificate) -> tuple[str, str]:
    """Return the signer's name and Italian tax code from the certificate's subject.

    The tax code is the subject's serialNumber (`TINIT-RSSMRA80A01H501U`), else a tax code
    found in the common name (`ROSSI MARIO/RSSMRA80A01H501U`); the name is given name and
    surname, else the common name without the tax code.
    """
    subject = cert.subject.native
    serial = str(subject.get("serial_number", ""))
    common = str(subject.get("common_name", ""))
    match = _TAX_CODE.search(serial.upper()) or _TAX_CODE.search(common.upper())
    tax_code = match.group(0) if match else ""
    given, surname = subject.get("given_name"), subject.get("surname")
    if given and surname:
        name = f"{given} {surname}"
    else:
        name = common.split("/")[0].strip()
        if tax_code:
            name = name.replace(tax_code, "").strip(" -/")
    return name, tax_code


def is_qualified(cert: x509.Certificate) -> bool:
    """Tell whether the certificate states it is qualified (QcStatements, QcCompliance)."""
    try:
        statements = qualified_asn1.get_qc_statements(cert)
    except Exception:
        return False
    return any(s["statement_id"].native == "qc_compliance" for s in statements)


def _revocation_date(cert: x509.Certificate, crls: list[Any]) -> dt.datetime | None:
    """Return when the certificate was revoked, read from the CRLs pyHanko checked."""
    for item in crls:
        certificate_list = (
            item
            if isinstance(item, asn1_crl.CertificateList)
            else (asn1_crl.CertificateList.load(item))
        )
        if certificate_list.issuer != cert.issuer:
            continue
        for entry in certificate_list["tbs_cert_list"]["revoked_certificates"] or []:
            if entry["user_certificate"].native == cert.serial_number:
                return entry["revocation_date"].native
    return None


def _judge(status: Any, claimed: dt.datetime | None, crls: list[Any]) -> SignerResult:
    """Turn pyHanko's status into a signer's result, with reasons in a fixed order."""
    cert = status.signing_cert
    name, tax_code = signer_identity(cert)
    reasons: list[Reason] = []
    moment = claimed or dt.datetime.now(dt.UTC)
    if not status.intact or not status.valid:
        reasons.append(Reason("modified"))
    if moment > cert.not_valid_after:
        reasons.append(Reason("expired", cert.not_valid_after))
    elif moment < cert.not_valid_before:
        reasons.append(Reason("not_yet_valid", cert.not_valid_before))
    revoked = getattr(status, "revoked", False)
    if revoked:
        reasons.append(Reason("revoked", _revocation_date(cert, crls)))
    result_status = INVALID if reasons else VALID
    if not reasons and not status.trusted:
        # No path to a trust anchor: the signature may be fine, the platform cannot tell.
        reasons.append(Reason("untrusted_chain"))
        result_status = INDETERMINATE
    return SignerResult(
        name=name,
        tax_code=tax_code,
        signing_time=claimed,
        qualified=is_qualified(cert),
        status=result_status,
        reasons=reasons,
    )


# -- Words ----------------------------------------------------------------------------


def _day(when: dt.datetime) -> str:
    """The day in Europe/Rome, through the one formatter."""
    return formatting.day(timezone.localtime(when) if timezone.is_aware(when) else when)


def reason_text(code: str, when: dt.datetime | str | None = None) -> str:
    """Say one reason in the active language."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    date = _day(when) if when else ""
    texts = {
        "no_signature": _("the file carries no signature"),
        "modified": _("the document was modified after signing"),
        "expired": _("the certificate had expired on %(date)s") % {"date": date},
        "not_yet_valid": _("the certificate was not yet valid (from %(date)s)") % {"date": date},
        "untrusted_chain": _("the chain does not reach a trusted authority"),
        "revoked": (
            _("the certificate was revoked on %(date)s") % {"date": date}
            if date
            else _("the certificate was revoked")
        ),
        "other_version": _("the signed content is not the version sent for signature"),
        "not_covered": _("the PDF was changed after the signature"),
    }
    return texts.get(code, _("the signature could not be checked"))


def status_text(status: str) -> str:
    return {
        VALID: _("valid"),
        INVALID: _("not valid"),
        INDETERMINATE: _("cannot tell"),
    }[status]


def describe_signer(signer: dict[str, Any]) -> str:
    """Say one signer's result in words, from its `as_json` form."""
    who = signer["name"] or _("an unnamed signer")
    if signer["tax_code"]:
        who = f"{who} ({signer['tax_code']})"
    if signer["signing_time"]:
        when = _day(dt.datetime.fromisoformat(signer["signing_time"]))
        sentence = _("Signed by %(who)s on %(date)s") % {"who": who, "date": when}
    else:
        sentence = _("Signed by %(who)s") % {"who": who}
    parts = [sentence, status_text(signer["status"])]
    parts += [reason_text(r["code"], r["when"]) for r in signer["reasons"]]
    if signer["qualified"]:
        parts.append(_("qualified certificate"))
    return "; ".join(parts)


def describe(signers: list[dict[str, Any]], reasons: list[dict[str, Any]], status: str) -> str:
    """Say a whole check in words: each signer, then the file-wide reasons."""
    sentences = [describe_signer(s) for s in signers]
    if reasons:
        head = "; ".join(
            [status_text(status)] + [reason_text(r["code"], r["when"]) for r in reasons]
        )
        sentences.append(head[:1].upper() + head[1:])
    return ". ".join(sentences) + "."
