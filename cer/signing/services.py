"""Signature workflows: send a version for signature, take each signature, execute, cancel.

The web pages and the API call these functions and nothing else writes a request. Every
step is audited (`signing.*` codes). The rules about which signature a document needs are
in `SIMPLE_ALLOWED` (docs/signing.md says why); the checks on an upload are in
cer.signing.verification.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.documents import services as documents
from cer.documents import signatures
from cer.documents.models import DocumentKind, DocumentVersion
from cer.documents.notices import document_to_sign
from cer.members.models import Member, Membership
from cer.signing import verification
from cer.signing.models import (
    RequestStatus,
    SignatureKind,
    SignatureRequest,
    SignedFile,
    Signer,
    SignerStatus,
)

# Kinds of document a simple electronic signature (one-time code) may be asked for: forms,
# mandates and releases, where a private writing in free form is enough (CAD art. 20
# c. 1-bis, c.c. art. 1350 not applying). Statutes, regulations and minutes need a
# qualified signature. docs/signing.md gives the reasons and the uncertain readings.
SIMPLE_ALLOWED = frozenset(
    {DocumentKind.MEMBERSHIP_FORM, DocumentKind.CONTRACT, DocumentKind.OTHER}
)

# Who a document kind is usually sent to (the send page's preset).
FOUNDERS, MEMBERS, CHOSEN, BY_NAME = "FOUNDERS", "MEMBERS", "CHOSEN", "BY_NAME"
PRESETS: dict[str, str] = {
    DocumentKind.STATUTE: FOUNDERS,
    DocumentKind.REGULATION: FOUNDERS,
    DocumentKind.CONTRACT: MEMBERS,
    DocumentKind.MEMBERSHIP_FORM: CHOSEN,
    DocumentKind.MINUTES: CHOSEN,
    DocumentKind.OTHER: CHOSEN,
}


class RequestRefused(Exception):
    """Raised when a request cannot be sent; `field` names the input at fault."""

    def __init__(self, field: str, message: Any) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


class SigningClosed(Exception):
    """Raised when a signer acts on a request that is no longer open, or twice."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


class FileRefused(Exception):
    """Raised when an uploaded file is too large to be read; `message` says why."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def read_upload(upload: Any) -> bytes:
    """Read an uploaded signed file, refusing one over settings.UPLOAD_MAX_BYTES."""
    limit = settings.UPLOAD_MAX_BYTES
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise FileRefused(
            _("The file is larger than %(limit)s MB.") % {"limit": round(limit / 1048576)}
        )
    return bytes(content)


@dataclass(frozen=True)
class Recipient:
    """A person asked to sign, resolved to their account."""

    name: str
    tax_code: str
    email: str
    user: Any


def _recipient(member: Member) -> Recipient | None:
    if member.user_id is None:
        return None
    return Recipient(
        name=member.display_name,
        tax_code=str(member.fiscal_code).upper(),
        email=member.email,
        user=member.user,
    )


def founders(community: Any, today: dt.date) -> list[Member]:
    """Return the founders: members whose membership began by the founding date.

    Without a founding date, the members who joined on the earliest day.
    """
    memberships = Membership.objects.filter(community=community).not_ended_on(today)
    first_day = community.founding_date or (
        memberships.order_by("valid_from").values_list("valid_from", flat=True).first()
    )
    if first_day is None:
        return []
    chosen = memberships.filter(valid_from__lte=first_day)
    return list(Member.objects.filter(memberships__in=chosen).distinct().order_by("pk"))


def members_of(community: Any, today: dt.date) -> list[Member]:
    """Return the community's current members."""
    current = Membership.objects.filter(community=community).active_on(today)
    return list(Member.objects.filter(memberships__in=current).distinct().order_by("pk"))


def recipients_from_members(members: list[Member]) -> list[Recipient]:
    """Turn members into recipients; a member without an account is refused by name."""
    missing = [m.display_name for m in members if m.user_id is None]
    if missing:
        raise RequestRefused(
            "signers",
            _("These people have no account to sign with: %(names)s. Invite them first.")
            % {"names": ", ".join(missing)},
        )
    return [r for m in members if (r := _recipient(m)) is not None]


def recipient_by_identity(*, name: str, tax_code: str, email: str) -> Recipient:
    """Find the account of a person given by name, tax code and e-mail.

    The tax code finds a member with an account; else the e-mail finds exactly one account.
    Raises RequestRefused (field `people`) when neither does.
    """
    code = tax_code.strip().upper()
    member = Member.objects.with_fiscal_code(code).exclude(user=None).first()
    if member is not None:
        return Recipient(
            name=name or member.display_name, tax_code=code, email=email, user=member.user
        )
    users = list(get_user_model().objects.filter(email__iexact=email.strip(), is_active=True)[:2])
    if len(users) != 1:
        raise RequestRefused(
            "people",
            _("No account for %(name)s (%(code)s, %(email)s): invite the person first.")
            % {"name": name, "code": code, "email": email},
        )
    return Recipient(name=name, tax_code=code, email=email, user=users[0])


def sent_file(request_or_version: SignatureRequest | DocumentVersion) -> tuple[bytes, str]:
    """Return the bytes sent for signature and their file name.

    A drafted document's version holds an editable DOCX and its PDF rendering: the PDF is
    what people sign (PAdES), so it is what is sent.
    """
    if isinstance(request_or_version, SignatureRequest):
        version = request_or_version.version
        use_pdf = request_or_version.sends_pdf_rendering
    else:
        version = request_or_version
        use_pdf = bool(version.pdf_file)
    stem = documents.download_stem(version)
    handle = version.pdf_file if use_pdf else version.file
    with handle.open("rb") as stream:
        content = stream.read()
    extension = "pdf" if use_pdf else version.file.name.rsplit(".", 1)[-1]
    return content, f"{stem}.{extension}"


def send_for_signature(
    *,
    version: DocumentVersion,
    kind: str,
    recipients: list[Recipient],
    message: str,
    actor: Any,
    now: dt.datetime,
) -> SignatureRequest:
    """Send `version` to `recipients` for a signature of `kind`, and tell them.

    Raises RequestRefused when nobody is named, a person is named twice, or a simple
    signature is asked for a document kind that needs a qualified one (SIMPLE_ALLOWED).
    """
    if not recipients:
        raise RequestRefused("signers", _("Name at least one person to sign."))
    codes = [r.tax_code for r in recipients]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise RequestRefused(
            "signers", _("A person is named twice: %(codes)s.") % {"codes": ", ".join(twice)}
        )
    document = version.document
    if kind == SignatureKind.SIMPLE and document.kind not in SIMPLE_ALLOWED:
        raise RequestRefused(
            "kind",
            _(
                "A %(type)s needs a qualified electronic signature: the simple one (one-time "
                "code) is allowed only for forms, mandates and releases."
            )
            % {"type": document.get_kind_display().lower()},
        )
    content, _name = sent_file(version)
    with transaction.atomic():
        request = SignatureRequest.objects.create(
            community=document.community,
            version=version,
            sends_pdf_rendering=bool(version.pdf_file),
            sent_sha256=hashlib.sha256(content).hexdigest(),
            kind=kind,
            message=message[:500],
            created_at=now,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        Signer.objects.bulk_create(
            Signer(
                request=request,
                position=position,
                name=r.name[:200],
                tax_code=r.tax_code,
                email=r.email,
                user=r.user,
                last_told_at=now,
            )
            for position, r in enumerate(recipients, start=1)
        )
        record(
            actor=actor,
            code="signing.request.sent",
            now=now,
            target=request,
            community=request.community,
            changes={
                "version": version.pk,
                "kind": kind,
                "sha256": request.sent_sha256,
                "signers": codes,
            },
        )
        users = [r.user for r in recipients]
        transaction.on_commit(lambda: document_to_sign(document, users, now))
    return request


def _open_signer(signer: Signer) -> None:
    if not signer.request.is_open:
        raise SigningClosed(
            _("This request is %(status)s: nothing more can be signed.")
            % {"status": signer.request.get_status_display()}
        )
    if signer.has_signed:
        raise SigningClosed(_("You have already signed this document."))


def upload_signed(
    *, signer: Signer, content: bytes, filename: str, actor: Any, now: dt.datetime
) -> SignedFile:
    """Verify a signed file `signer` uploads; keep it, accepted or refused, with its check.

    Accepted (the signer's valid qualified signature over the version sent) marks the
    signer signed and, when they were the last, executes the request. Raises SigningClosed
    when the request is not open or the signer already signed.
    """
    request = signer.request
    if request.kind != SignatureKind.QUALIFIED:
        raise SigningClosed(_("This document is signed with a one-time code, not a file."))
    _open_signer(signer)
    sent, _name = sent_file(request)
    judgement = verification.judge(
        content, filename, tax_code=signer.tax_code, sent=sent, sent_sha256=request.sent_sha256
    )
    report = judgement.report
    with transaction.atomic():
        signer = Signer.objects.select_for_update().get(pk=signer.pk)
        _open_signer(signer)
        signed = SignedFile(
            signer=signer,
            original_name=filename[:200],
            format=report.format if report else "",
            status=report.status if report else "",
            signers=[s.as_json() for s in report.signers] if report else [],
            reasons=[r.as_json() for r in report.reasons] if report else [],
            refusals=judgement.refusals,
            accepted=judgement.accepted,
            content_sha256=report.content_sha256 if report else "",
            uploaded_at=now,
        )
        signed.file.save(f"x.{_extension(filename)}", ContentFile(content), save=False)
        signed.save()
        record(
            actor=actor,
            code="signing.file.accepted" if signed.accepted else "signing.file.refused",
            now=now,
            target=signer,
            community=request.community,
            changes={
                "request": request.pk,
                "file": signed.pk,
                "refusals": [r["code"] for r in judgement.refusals],
            },
        )
        if signed.accepted:
            mark_signed(signer=signer, actor=actor, now=now)
    return signed


def _extension(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return extension if extension.isalnum() and len(extension) <= 5 else "bin"


def mark_signed(*, signer: Signer, actor: Any, now: dt.datetime) -> None:
    """Mark `signer` signed (inside the caller's transaction); execute when all have."""
    signer.status = SignerStatus.SIGNED
    signer.signed_at = now
    signer.save(update_fields=["status", "signed_at"])
    record(
        actor=actor,
        code="signing.signer.signed",
        now=now,
        target=signer,
        community=signer.request.community,
        changes={"request": signer.request_id, "kind": signer.request.kind},
    )
    request = SignatureRequest.objects.select_for_update().get(pk=signer.request_id)
    if not request.signers.filter(status=SignerStatus.PENDING).exists():
        _execute(request=request, actor=actor, now=now)


def _execute(*, request: SignatureRequest, actor: Any, now: dt.datetime) -> None:
    """Store the signed copy as a new version of the document and mark the request executed.

    Qualified: the accepted file carrying the most of the requested signatures (all of
    them when the signers signed in turn), verified again and stored with its check.
    Simple: the evidence of every signer, in one PDF (cer.signing.evidence).
    """
    from cer.signing import evidence

    if request.kind == SignatureKind.QUALIFIED:
        name, check = _best_signed_file(request)
        version = documents.add_version(
            document=request.document,
            content=check.content,
            file_type=check.file_type,
            original_name=name,
            actor=actor,
            now=now,
            note=_("Signed by everyone asked (signature request %(n)s)") % {"n": request.pk},
        )
        documents.record_signature_check(version=version, signed=check, actor=actor, now=now)
    else:
        pdf = evidence.request_evidence_pdf(request, now=now)
        version = documents.add_version(
            document=request.document,
            content=pdf,
            file_type=documents.ACCEPTED["pdf"],
            original_name=f"firme-elettroniche-semplici-{request.pk}.pdf",
            actor=actor,
            now=now,
            note=_("Firma elettronica semplice: evidence of every signer (signature request %(n)s)")
            % {"n": request.pk},
        )
    request.status = RequestStatus.EXECUTED
    request.closed_at = now
    request.executed_version = version
    request.save(update_fields=["status", "closed_at", "executed_version"])
    from cer.signing.notices import request_executed

    transaction.on_commit(lambda: request_executed(request, now))
    record(
        actor=actor,
        code="signing.request.executed",
        now=now,
        target=request,
        community=request.community,
        changes={"version": version.pk},
    )


def _best_signed_file(request: SignatureRequest) -> tuple[str, documents.SignedUpload]:
    wanted = set(request.signers.values_list("tax_code", flat=True))
    files = SignedFile.objects.filter(signer__request=request, accepted=True).order_by(
        "-uploaded_at", "-pk"
    )

    def covered(signed: SignedFile) -> int:
        codes = {s["tax_code"] for s in signed.signers if s["status"] == signatures.VALID}
        return len(codes & wanted)

    best = max(files, key=covered)
    with best.file.open("rb") as stream:
        content = stream.read()
    report = signatures.verify(content, best.original_name)
    envelope = content if report.format == signatures.CADES else None
    name = best.original_name
    while envelope is not None and name.lower().endswith(".p7m") and len(name) > 4:
        name = name[:-4]
    file_type = documents.sniff_type(report.content) or documents.ACCEPTED["pdf"]
    return name, documents.SignedUpload(report.content, file_type, report, envelope)


def latest_signed_file(request: SignatureRequest) -> SignedFile | None:
    """The latest accepted signed file of the request: the copy the next signer signs."""
    return (
        SignedFile.objects.filter(signer__request=request, accepted=True)
        .order_by("-uploaded_at", "-pk")
        .first()
    )


def cancel(*, request: SignatureRequest, reason: str, actor: Any, now: dt.datetime) -> None:
    """Cancel an open request: nobody can sign it any more. Raises SigningClosed if closed."""
    with transaction.atomic():
        request = SignatureRequest.objects.select_for_update().get(pk=request.pk)
        if not request.is_open:
            raise SigningClosed(
                _("This request is %(status)s and cannot be cancelled.")
                % {"status": request.get_status_display()}
            )
        request.status = RequestStatus.CANCELLED
        request.closed_at = now
        request.cancel_reason = reason[:300]
        request.save(update_fields=["status", "closed_at", "cancel_reason"])
        record(
            actor=actor,
            code="signing.request.cancelled",
            now=now,
            target=request,
            community=request.community,
            changes={"reason": request.cancel_reason},
        )


def pending_for(user: Any) -> Any:
    """The user's signatures still to give, on open requests."""
    return (
        Signer.objects.filter(
            user_id=user.pk, status=SignerStatus.PENDING, request__status=RequestStatus.OPEN
        )
        .select_related("request__version__document", "request__community")
        .order_by("request__created_at")
    )


def requests_of(community: Any) -> Any:
    """The community's requests, newest first, with their signers."""
    return (
        SignatureRequest.objects.filter(Q(community=community))
        .select_related("version__document")
        .prefetch_related("signers")
    )


def resolve_recipients(
    *,
    community: Any,
    version: DocumentVersion,
    who: str,
    members: list[Member],
    people: list[tuple[str, str, str]],
    today: dt.date,
) -> list[Recipient]:
    """Return who signs: a preset (`who`), the members chosen, or people by identity.

    `who` is FOUNDERS, MEMBERS, CHOSEN, BY_NAME or AUTO (the preset of the document's
    kind, PRESETS). Raises RequestRefused naming the field at fault.
    """
    if who == "AUTO":
        who = PRESETS.get(version.document.kind, CHOSEN)
    if who == FOUNDERS:
        chosen = founders(community, today)
        if not chosen:
            raise RequestRefused("who", _("The community has no founders on record."))
        return recipients_from_members(chosen)
    if who == MEMBERS:
        return recipients_from_members(members_of(community, today))
    if who == CHOSEN:
        if not members:
            raise RequestRefused("members", _("Choose at least one member."))
        return recipients_from_members(members)
    if who == BY_NAME:
        if not people:
            raise RequestRefused("people", _("Write at least one person."))
        return [
            recipient_by_identity(name=name, tax_code=code, email=email)
            for name, code, email in people
        ]
    raise RequestRefused("who", _("Choose who signs."))
