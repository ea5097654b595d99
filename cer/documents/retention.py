"""How long a community keeps its documents, and the review of those past that time.

Each document type has a retention period in years, counted from the document's date; the
community's managers may change it (RetentionPeriod). A document past its period is listed
for review: a manager keeps it until a date, with a reason, or deletes it after a
confirmation. Nothing is ever deleted automatically. The defaults and their sources are in
docs/documents.md ("Retention"); readings marked uncertain there are starting points for
the community to confirm with its accountant or lawyer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.documents.models import Document, DocumentKind, RetentionPeriod

# Years from the document's date; None keeps the document for the community's life.
DEFAULT_YEARS: dict[str, int | None] = {
    # The founding acts and the minutes prove how the entity is governed; no term ends
    # their use (c.c. artt. 14-42; by analogy with the company books, art. 2421). Uncertain.
    DocumentKind.STATUTE: None,
    DocumentKind.REGULATION: None,
    DocumentKind.MINUTES: None,
    # Membership forms and contracts: the ordinary limitation period, c.c. art. 2946
    # (10 years), counted here from the document's date rather than from the end of the
    # relationship (uncertain); personal data no longer than needed, GDPR art. 5(1)(e).
    DocumentKind.MEMBERSHIP_FORM: 10,
    DocumentKind.CONTRACT: 10,
    # Accounting records, invoices and business letters: c.c. art. 2220 (10 years).
    DocumentKind.OTHER: 10,
}
MAX_YEARS = 100


class RetentionRefused(Exception):
    """Raised when a retention decision is not acceptable; `field` and `message` say why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def periods(community: Any) -> dict[str, int | None]:
    """Return the retention period in years of every document type for `community`."""
    years = dict(DEFAULT_YEARS)
    for row in RetentionPeriod.objects.filter(community=community):
        years[row.kind] = row.years
    return years


def set_periods(
    *, community: Any, years: dict[str, int | None], actor: Any, now: dt.datetime
) -> dict[str, list[Any]]:
    """Store the periods that changed; return them as {kind: [old, new]} (also audited)."""
    current = periods(community)
    changed: dict[str, list[Any]] = {}
    for kind, value in years.items():
        if kind not in DEFAULT_YEARS:
            raise RetentionRefused(kind, _("Unknown document type."))
        if value is not None and not 1 <= value <= MAX_YEARS:
            raise RetentionRefused(
                kind,
                _("Write a number of years from 1 to %(max)s, or leave it empty.")
                % {"max": MAX_YEARS},
            )
        if current[kind] != value:
            changed[kind] = [current[kind], value]
    with transaction.atomic():
        for kind, (_old, value) in changed.items():
            RetentionPeriod.objects.update_or_create(
                community=community, kind=kind, defaults={"years": value}
            )
        if changed:
            record(
                actor=actor,
                code="documents.retention.changed",
                now=now,
                community=community,
                changes=changed,
            )
    return changed


def expires_on(document_date: dt.date, years: int | None) -> dt.date | None:
    """Return the day a document's retention ends (29 February falls on 28 February)."""
    if years is None:
        return None
    try:
        return document_date.replace(year=document_date.year + years)
    except ValueError:
        return document_date.replace(year=document_date.year + years, day=28)


@dataclass(frozen=True)
class Due:
    """A document past its retention period, and the day that period ended."""

    document: Document
    expired_on: dt.date


def due_for_review(*, community: Any, today: dt.date) -> list[Due]:
    """Return the community's documents past retention and not kept beyond today."""
    years = periods(community)
    due = []
    documents = Document.objects.filter(community=community).order_by("document_date", "pk")
    for document in documents:
        end = expires_on(document.document_date, years.get(document.kind))
        if end is None or end > today:
            continue
        if document.keep_until is not None and document.keep_until >= today:
            continue
        due.append(Due(document, end))
    return due


def keep(
    *, document: Document, until: dt.date, reason: str, actor: Any, now: dt.datetime, today: dt.date
) -> Document:
    """Keep `document` past its retention until `until`, for `reason` (audited)."""
    reason = reason.strip()
    if until <= today:
        raise RetentionRefused("keep_until", _("The date must be after today."))
    if not reason:
        raise RetentionRefused("keep_reason", _("Say why the document is kept."))
    before = [str(document.keep_until or ""), document.keep_reason]
    document.keep_until, document.keep_reason = until, reason[:200]
    with transaction.atomic():
        document.save(update_fields=["keep_until", "keep_reason"])
        record(
            actor=actor,
            code="documents.retention.kept",
            now=now,
            target=document,
            community=document.community,
            changes={
                "keep_until": [before[0], until.isoformat()],
                "keep_reason": [before[1], document.keep_reason],
            },
        )
    return document


def delete_document(*, document: Document, actor: Any, now: dt.datetime) -> None:
    """Delete `document`, every version and signature check, and their files (audited).

    The files go once the deletion is committed, so a rollback leaves them in place.
    """
    files = []
    versions = list(document.versions.prefetch_related("signature_checks"))
    for version in versions:
        files += [version.file, version.pdf_file]
        files += [check.envelope for check in version.signature_checks.all()]
    community = document.community
    with transaction.atomic():
        record(
            actor=actor,
            code="documents.document.deleted",
            now=now,
            target=document,
            community=community,
            changes={
                "title": document.title,
                "kind": document.kind,
                "document_date": document.document_date.isoformat(),
                "versions": len(versions),
            },
        )
        try:
            document.delete()
        except ProtectedError as refusal:
            raise RetentionRefused(
                "document", _("Another record still refers to this document.")
            ) from refusal
        stored = [(f.storage, f.name) for f in files if f]
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in stored])
