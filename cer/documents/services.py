"""The document archive: checked uploads, numbered versions, drafted founding documents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from cer.audit.services import record
from cer.documents import drafting
from cer.documents.archives import ArchiveRefused, inspect_zip
from cer.documents.models import Document, DocumentKind, DocumentVersion

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
    try:
        file_type = sniff_type(content)
    except ArchiveRefused as refusal:
        raise UploadRefused(refusal.message) from refusal
    if file_type is None:
        raise UploadRefused(_("Only PDF, DOCX, ODT, PNG and JPEG files are accepted."))
    return content, file_type


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
) -> Document:
    """Store a checked upload: a new version of `cleaned["document"]`, else a new document.

    `cleaned` is the cleaned data of the upload form (web page and API alike).
    """
    name = cleaned["file"].name
    if cleaned["document"] is not None:
        add_version(
            document=cleaned["document"],
            content=content,
            file_type=file_type,
            original_name=name,
            actor=actor,
            now=now,
            note=cleaned["note"],
        )
        return cleaned["document"]
    return create_document(
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


def founding_context(*, community: Any, today: dt.date) -> dict[str, Any]:
    """Return the data the statute and regulation templates are filled with."""
    from cer.members.models import Member, MembershipRole

    members = list(
        Member.objects.filter(memberships__community=community)
        .select_related("municipality")
        .distinct()
    )
    referente = Member.objects.filter(
        memberships__community=community, memberships__role=MembershipRole.REFERENTE
    ).first() or (members[0] if members else None)
    return {
        "community": community,
        "kind_label": community.get_kind_display(),
        "legal_form_label": community.get_legal_form_display(),
        "members": members,
        "referente": referente,
        "configurations": list(community.configurations.all()),
        "distribution": getattr(community, "incentive_distribution", None),
        "today": today,
    }


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
