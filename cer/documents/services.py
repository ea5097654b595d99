"""The document archive: checked uploads, numbered versions, drafted founding documents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from cer.audit.services import record
from cer.documents import drafting, extraction, signatures
from cer.documents.archives import ArchiveRefused, inspect_zip
from cer.documents.models import Document, DocumentKind, DocumentVersion, SignatureCheck

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"


class UploadRefused(Exception):
    """Raised when a file is too large or not of an accepted type; `message` says why."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str


ACCEPTED = {
    "pdf": FileType("application/pdf", "pdf"),
    "docx": FileType(DOCX, "docx"),
    "odt": FileType(ODT, "odt"),
    "png": FileType("image/png", "png"),
    "jpeg": FileType("image/jpeg", "jpg"),
}


def sniff_type(content: bytes) -> FileType | None:
    """Return the type of a file from its first bytes and structure, not from its name.

    A ZIP container is read entry by entry under the limits of cer.documents.archives;
    raises ArchiveRefused when it crosses one.
    """
    if content.startswith(b"%PDF-"):
        return ACCEPTED["pdf"]
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return ACCEPTED["png"]
    if content.startswith(b"\xff\xd8\xff"):
        return ACCEPTED["jpeg"]
    if content.startswith(b"PK\x03\x04"):
        summary = inspect_zip(
            content, max_bytes=settings.UPLOAD_MAX_DECOMPRESSED_BYTES, heads=("mimetype",)
        )
        if summary is None:
            return None
        if summary.heads.get("mimetype", b"").strip() == ODT.encode():
            return ACCEPTED["odt"]
        if {"[Content_Types].xml", "word/document.xml"} <= summary.names:
            return ACCEPTED["docx"]
    return None


def check_upload(upload: Any) -> tuple[bytes, FileType]:
    """Read an uploaded file and return its bytes and sniffed type.

    Raises UploadRefused when it exceeds settings.UPLOAD_MAX_BYTES, is an archive that
    expands beyond settings.UPLOAD_MAX_DECOMPRESSED_BYTES (or too many times, or holds too
    many files), or is not a PDF, DOCX, ODT, PNG or JPEG by content.
    """
    content = _read_upload(upload)
    return content, _sniff_accepted(content)


def _read_upload(upload: Any) -> bytes:
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise UploadRefused(
            _("The file is larger than %(limit)s MB.") % {"limit": _megabytes(limit)}
        )
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise UploadRefused(
            _("The file is larger than %(limit)s MB.") % {"limit": _megabytes(limit)}
        )
    return content


def _sniff_accepted(content: bytes) -> FileType:
    try:
        file_type = sniff_type(content)
    except ArchiveRefused as refusal:
        raise UploadRefused(refusal.message) from refusal
    if file_type is None:
        raise UploadRefused(_("Only PDF, DOCX, ODT, PNG and JPEG files are accepted."))
    return file_type


@dataclass(frozen=True)
class SignedUpload:
    """A checked upload that is (or claims to be) signed.

    `content` is the readable document (a `.p7m`'s signed content), `envelope` the `.p7m`
    as uploaded (None for a PDF, which is its own envelope), `report` the verification.
    """

    content: bytes
    file_type: FileType
    report: signatures.SignatureReport
    envelope: bytes | None


def check_signed_upload(
    upload: Any, *, signed: bool, expected_sha256: str | None = None
) -> tuple[bytes, FileType, SignedUpload | None]:
    """Read an upload like `check_upload` and verify its signatures.

    A `.p7m` (or CMS signed data under any name) is unwrapped and verified; one that is
    not CMS is refused (UploadRefused). A PDF carrying signature fields is verified even
    when `signed` is off; a file declared `signed` without any signature is stored with an
    INVALID result ("no signature"). Returns (readable content, its type, the signed
    upload or None when nothing is or claims to be signed).
    """
    content = _read_upload(upload)
    name = getattr(upload, "name", "") or ""
    if signatures.is_envelope(content, name):
        try:
            report = signatures.verify(content, name, expected_sha256=expected_sha256)
        except signatures.NotSigned as refusal:
            raise UploadRefused(refusal.message) from refusal
        file_type = _sniff_accepted(report.content)
        return report.content, file_type, SignedUpload(report.content, file_type, report, content)
    file_type = _sniff_accepted(content)
    if not signed and not signatures.has_pdf_signatures(content):
        return content, file_type, None
    report = signatures.verify(content, name, expected_sha256=expected_sha256)
    return content, file_type, SignedUpload(content, file_type, report, None)


def record_signature_check(
    *, version: DocumentVersion, signed: SignedUpload, actor: Any, now: dt.datetime
) -> SignatureCheck:
    """Store the verification of `signed` with `version`, and audit it."""
    report = signed.report
    first = report.signers[0] if report.signers else None
    check = SignatureCheck(
        version=version,
        format=report.format,
        status=report.status,
        signer_name=first.name[:200] if first else "",
        tax_code=first.tax_code if first else "",
        signing_time=first.signing_time if first else None,
        qualified=bool(first and first.qualified),
        signers=[s.as_json() for s in report.signers],
        reasons=[r.as_json() for r in report.reasons],
        content_sha256=report.content_sha256,
        checked_at=now,
    )
    if signed.envelope is not None:
        check.envelope.save("x.p7m", ContentFile(signed.envelope), save=False)
    check.save()
    record(
        actor=actor,
        code="documents.signature.checked",
        now=now,
        target=version,
        community=version.document.community,
        changes={"status": check.status, "format": check.format, "tax_code": check.tax_code},
    )
    return check


def download_stem(version: DocumentVersion) -> str:
    """Return the name a version is downloaded under, without extension.

    The uploader's name lends its stem only: the extension follows the sniffed content
    type (cer.core.downloads), so `polyglot.html` holding a PDF downloads as a PDF.
    """
    stem = version.original_name.rsplit(".", 1)[0]
    if any(char.isascii() and char.isalnum() for char in stem):
        return stem
    return f"documento-{version.document_id}-v{version.number}"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def _next_number(document: Document) -> int:
    return (document.versions.aggregate(top=Max("number"))["top"] or 0) + 1


def add_version(
    *,
    document: Document,
    content: bytes,
    file_type: FileType,
    original_name: str,
    actor: Any,
    now: dt.datetime,
    note: str = "",
    pdf_content: bytes | None = None,
    written: list[str] | None = None,
) -> DocumentVersion:
    """Store `content` as the next version of `document` and record it in the audit log.

    `written` collects the storage names, so a caller can remove them if its transaction
    rolls back.
    """
    with transaction.atomic():
        version = DocumentVersion(
            document=document,
            number=_next_number(document),
            original_name=original_name[:200],
            content_type=file_type.content_type,
            size_bytes=len(content),
            uploaded_at=now,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            note=note,
        )
        # Every upload path comes through here, so every version is searchable.
        extraction.fill(version, content)
        version.file.save(f"x.{file_type.extension}", ContentFile(content), save=False)
        if written is not None:
            written.append(version.file.name)
        if pdf_content is not None:
            version.pdf_file.save("x.pdf", ContentFile(pdf_content), save=False)
            if written is not None:
                written.append(version.pdf_file.name)
        version.save()
        record(
            actor=actor,
            code="documents.version.added",
            now=now,
            target=version,
            community=document.community,
            changes={"number": version.number, "content_type": version.content_type},
        )
    return version


def create_document(
    *,
    community: Any,
    kind: str,
    title: str,
    document_date: dt.date,
    content: bytes,
    file_type: FileType,
    original_name: str,
    actor: Any,
    now: dt.datetime,
    pdf_content: bytes | None = None,
    written: list[str] | None = None,
) -> Document:
    """Create a document in the community's archive with its first version."""
    with transaction.atomic():
        document = Document.objects.create(
            community=community,
            kind=kind,
            title=title,
            document_date=document_date,
            created_at=now,
        )
        add_version(
            document=document,
            content=content,
            file_type=file_type,
            original_name=original_name,
            actor=actor,
            now=now,
            pdf_content=pdf_content,
            written=written,
        )
    return document


def store_upload(
    *,
    community: Any,
    cleaned: dict[str, Any],
    content: bytes,
    file_type: FileType,
    actor: Any,
    now: dt.datetime,
    signed: SignedUpload | None = None,
) -> Document:
    """Store a checked upload: a new version of `cleaned["document"]`, else a new document.

    `cleaned` is the cleaned data of the upload form (web page and API alike); `signed`
    (from `check_signed_upload`) stores the verification with the new version.
    """
    name = cleaned["file"].name
    if signed is not None and signed.envelope is not None:
        # The version holds the envelope's content: "statuto.pdf.p7m.p7m" is "statuto.pdf".
        while name.lower().endswith(".p7m") and len(name) > 4:
            name = name[:-4]
    with transaction.atomic():
        if cleaned["document"] is not None:
            document = cleaned["document"]
            version = add_version(
                document=document,
                content=content,
                file_type=file_type,
                original_name=name,
                actor=actor,
                now=now,
                note=cleaned["note"],
            )
        else:
            document = create_document(
                community=community,
                kind=cleaned["kind"],
                title=cleaned["title"],
                document_date=cleaned["document_date"],
                content=content,
                file_type=file_type,
                original_name=name,
                actor=actor,
                now=now,
            )
            version = document.versions.get()
        if signed is not None:
            record_signature_check(version=version, signed=signed, actor=actor, now=now)
    return document


def set_links(
    *, document: Document, member: Any, plant: Any, actor: Any, now: dt.datetime
) -> Document:
    """Link `document` to the member and the plant it concerns (None unlinks); audited.

    Both must belong to the document's community; the caller's form limits the choice.
    """
    # Compared with what is stored: a bound ModelForm has already set the instance's fields.
    stored = Document.objects.values_list("member_id", "plant_id").get(pk=document.pk)
    changes = {
        name: [str(before or ""), str(value.pk if value else "")]
        for name, before, value in (("member", stored[0], member), ("plant", stored[1], plant))
        if before != (value.pk if value else None)
    }
    if changes:
        document.member, document.plant = member, plant
        with transaction.atomic():
            document.save(update_fields=["member", "plant"])
            record(
                actor=actor,
                code="documents.document.linked",
                now=now,
                target=document,
                community=document.community,
                changes=changes,
            )
    return document


# Apps on higher floors add to the templates' context (cer.distribution gives the terms of
# its policy, so the statute spells them out): callback(community=, today=) -> dict.
_CONTEXT_PROVIDERS: list[Callable[..., dict[str, Any]]] = []

# The statute's articles differ by legal form; the forms not listed follow the association.
_FAMILY_OF_FORM = {
    "ASSOCIATION": "association",
    "RECOGNISED_ASSOCIATION": "association",
    "THIRD_SECTOR": "ets",
    "COOPERATIVE": "cooperative",
    "FOUNDATION": "foundation",
    "CONSORTIUM": "consortium",
    "CONDOMINIUM": "agreement",
    "NONE": "agreement",
}


def add_context_provider(provider: Callable[..., dict[str, Any]]) -> None:
    """Merge `provider(community=, today=)`'s dict into every founding document's context."""
    if provider not in _CONTEXT_PROVIDERS:
        _CONTEXT_PROVIDERS.append(provider)


def founding_context(*, community: Any, today: dt.date) -> dict[str, Any]:
    """Return the data the statute, regulation and mandate templates are filled with.

    `family` picks the conditional blocks of the legal form (association, ets,
    cooperative, foundation, consortium, agreement); `policy` (from the providers) is the
    distribution policy, `distribution` the wizard's split used when there is no policy.
    """
    from cer.members.models import Member, MembershipRole

    members = list(
        Member.objects.filter(memberships__community=community)
        .select_related("municipality")
        .order_by("pk")
        .distinct()
    )
    referente = Member.objects.filter(
        memberships__community=community, memberships__role=MembershipRole.REFERENTE
    ).first() or (members[0] if members else None)
    context: dict[str, Any] = {
        "community": community,
        "kind_label": community.get_kind_display(),
        "legal_form_label": community.get_legal_form_display(),
        "family": _FAMILY_OF_FORM.get(community.legal_form, "association"),
        "recognised": community.legal_form == "RECOGNISED_ASSOCIATION",
        "members": members,
        "referente": referente,
        "configurations": list(community.configurations.all()),
        "distribution": getattr(community, "incentive_distribution", None),
        "policy": None,
        "today": today,
        "first_year_end": dt.date((community.founding_date or today).year, 12, 31),
    }
    for provider in _CONTEXT_PROVIDERS:
        context.update(provider(community=community, today=today))
    return context


def mandate_context(*, community: Any, member: Any, today: dt.date) -> dict[str, Any]:
    """Return the context of `member`'s mandate to the referente of `community`."""
    from cer.members.models import Membership
    from cer.plants.models import ConnectionPoint

    context = founding_context(community=community, today=today)
    context["member"] = member
    context["membership"] = (
        Membership.objects.filter(community=community, member=member)
        .order_by("-valid_from")
        .first()
    )
    context["points"] = list(
        ConnectionPoint.objects.filter(holder=member, configuration__community=community)
        .select_related("configuration")
        .order_by("pod")
    )
    return context


def draft_mandate(*, community: Any, member: Any, today: dt.date) -> list[drafting.Block]:
    """Draft `member`'s mandate contract to the referente (TIAD; c.c. artt. 1703 ff.)."""
    return drafting.draft(
        "MANDATE", mandate_context(community=community, member=member, today=today)
    )


def draft_founding_documents(
    *,
    community: Any,
    kinds: list[str],
    actor: Any,
    now: dt.datetime,
    today: dt.date,
    written: list[str] | None = None,
) -> list[Document]:
    """Draft the statute and/or the regulation (DOCX with a PDF rendering) into the archive."""
    from django.utils import translation

    context = founding_context(community=community, today=today)
    documents = []
    for kind in kinds:
        blocks = drafting.draft(kind, context)
        with translation.override("it"):
            label = str(DocumentKind(kind).label)
        title = f"{label} — {community.name}"
        slug = "statuto" if kind == DocumentKind.STATUTE else "regolamento"
        documents.append(
            create_document(
                community=community,
                kind=kind,
                title=title,
                document_date=today,
                content=drafting.to_docx(blocks),
                file_type=ACCEPTED["docx"],
                original_name=f"{slug}.docx",
                actor=actor,
                now=now,
                pdf_content=drafting.to_pdf(blocks, title=title),
                written=written,
            )
        )
    return documents


def mandate_file(*, membership: Any, as_pdf: bool, today: dt.date) -> tuple[bytes, str, str]:
    """Draft the mandate of `membership`'s member and return (content, content type, stem).

    Drafted on request and never stored: it carries the member's current data.
    """
    member, community = membership.member, membership.community
    blocks = draft_mandate(community=community, member=member, today=today)
    stem = f"mandato-{community.pk}-{member.pk}"
    if as_pdf:
        return drafting.to_pdf(blocks, title=blocks[0].text), "application/pdf", stem
    return drafting.to_docx(blocks), DOCX, stem


def redraft_founding_documents(
    *, community: Any, actor: Any, now: dt.datetime, today: dt.date
) -> list[Document]:
    """Draft the statute and the regulation again from today's data and policy.

    Each becomes a new version of the drafted document of its kind (the latest one that
    carries a PDF rendering), or a new document when there is none; earlier versions stay.
    """
    from django.utils import translation

    context = founding_context(community=community, today=today)
    documents = []
    with transaction.atomic():
        for kind, slug in (
            (DocumentKind.STATUTE, "statuto"),
            (DocumentKind.REGULATION, "regolamento"),
        ):
            blocks = drafting.draft(kind, context)
            with translation.override("it"):
                title = f"{DocumentKind(kind).label} — {community.name}"
            content, pdf = drafting.to_docx(blocks), drafting.to_pdf(blocks, title=title)
            drafted = (
                Document.objects.filter(community=community, kind=kind)
                .exclude(versions__pdf_file="")
                .order_by("-created_at", "-pk")
                .first()
            )
            if drafted is None:
                drafted = create_document(
                    community=community,
                    kind=kind,
                    title=title,
                    document_date=today,
                    content=content,
                    file_type=ACCEPTED["docx"],
                    original_name=f"{slug}.docx",
                    actor=actor,
                    now=now,
                    pdf_content=pdf,
                )
            else:
                add_version(
                    document=drafted,
                    content=content,
                    file_type=ACCEPTED["docx"],
                    original_name=f"{slug}.docx",
                    actor=actor,
                    now=now,
                    note="Bozza rigenerata dai dati e dalla politica di ripartizione correnti",
                    pdf_content=pdf,
                )
            documents.append(drafted)
    return documents
