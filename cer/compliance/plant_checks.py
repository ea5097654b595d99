"""The compliance checklist of a PNRR-funded plant: the six DNSH objectives, the new or
regenerated components declaration and, for biogas and biomass plants, their criteria.

Each item (rules.PLANT_ITEMS) is MISSING until evidence is given (a document uploaded to
the community's archive, or the answer to a question, with its evidence), PROVIDED then,
ACCEPTED once a manager has checked it (confirmed and audited on the page). `dnsh_complete`
is what the PNRR file's checks consult. See docs/compliance.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.compliance import rules
from cer.compliance.errors import refuse
from cer.compliance.models import ItemStatus, PlantComplianceItem
from cer.documents.models import Document, DocumentKind, SignatureCheck
from cer.documents.services import (
    UploadRefused,
    check_signed_upload,
    create_document,
    record_signature_check,
)
from cer.plants.models import Plant

ANSWERS = ("YES", "NO")


def applies_to(plant: Plant) -> bool:
    """Return whether the plant is PNRR-funded: it has a grant file or a capital grant."""
    if plant.capital_grant_pct:
        return True
    return hasattr(plant, "grant_application") and plant.grant_application is not None


@dataclass(frozen=True)
class Evidence:
    document: Document
    signature: SignatureCheck | None


@dataclass(frozen=True)
class ItemRow:
    """One checklist item of a plant as the page shows it."""

    item: rules.PlantItem
    status: str
    answer: str
    note: str
    evidence: tuple[Evidence, ...]

    @property
    def status_label(self) -> str:
        return str(ItemStatus(self.status).label)


def _community(plant: Plant) -> Any:
    return plant.connection_point.configuration.community


def checklist(plant: Plant) -> list[ItemRow]:
    """Return every item that applies to the plant, with its status and evidence."""
    stored = {
        item.code: item
        for item in PlantComplianceItem.objects.filter(plant=plant).prefetch_related("evidence")
    }
    rows = []
    for item in rules.items_for(plant.source):
        row = stored.get(item.code)
        documents = sorted(row.evidence.all(), key=lambda d: d.pk) if row else []
        rows.append(
            ItemRow(
                item=item,
                status=row.status if row else ItemStatus.MISSING,
                answer=row.answer if row else "",
                note=row.note if row else "",
                evidence=tuple(Evidence(doc, _signature(doc)) for doc in documents),
            )
        )
    return rows


def _signature(document: Document) -> SignatureCheck | None:
    version = document.latest_version
    if version is None:
        return None
    return version.signature_checks.order_by("-checked_at", "-pk").first()


def dnsh_complete(plant: Plant) -> bool:
    """Return whether every item of the plant's checklist is ACCEPTED.

    The PNRR file's checks (cer.grants.checks) consult it: the DNSH principle and the
    components rule are requirements of the grant (REGULATION.md §8 [S], §9 [U]).
    """
    accepted = set(
        PlantComplianceItem.objects.filter(plant=plant, status=ItemStatus.ACCEPTED).values_list(
            "code", flat=True
        )
    )
    return all(item.code in accepted for item in rules.items_for(plant.source))


def _item(plant: Plant, code: str, now: dt.datetime) -> tuple[rules.PlantItem, Any]:
    spec = rules.ITEMS_BY_CODE.get(code)
    if spec is None or spec not in rules.items_for(plant.source):
        raise refuse("code", _("This item is not part of the plant's checklist."))
    row, _created = PlantComplianceItem.objects.get_or_create(
        plant=plant, code=code, defaults={"changed_at": now}
    )
    return spec, row


def provide_evidence(
    *,
    plant: Plant,
    code: str,
    upload: Any = None,
    answer: str = "",
    note: str = "",
    actor: Any,
    now: dt.datetime,
) -> PlantComplianceItem:
    """Give evidence for an item: a file (stored in the community's archive, its signature
    verified) and, for a question, the answer YES or NO. The item becomes PROVIDED; an
    ACCEPTED item given new evidence goes back to PROVIDED, to be checked again.

    Raises ComplianceError for an item outside the plant's checklist, a question without
    answer, nothing given, or a file the archive refuses.
    """
    spec = rules.ITEMS_BY_CODE.get(code)
    if spec is None or spec not in rules.items_for(plant.source):
        raise refuse("code", _("This item is not part of the plant's checklist."))
    answer = (answer or "").strip().upper()
    if answer and answer not in ANSWERS:
        raise refuse("answer", _("Answer yes or no."))
    if spec.question and not answer:
        raise refuse("answer", _("Answer the question."))
    if not spec.question and upload is None:
        raise refuse("file", _("Upload the evidence document."))
    checked = None
    if upload is not None:
        try:
            checked = check_signed_upload(upload, signed=False)
        except UploadRefused as refusal:
            raise refuse("file", str(refusal.message)) from None
    with transaction.atomic():
        _spec, row = _item(plant, code, now)
        before = row.status
        document = None
        if checked is not None:
            content, file_type, signed = checked
            document = create_document(
                community=_community(plant),
                kind=DocumentKind.OTHER,
                title=_("%(item)s — %(plant)s") % {"item": spec.title, "plant": plant.name},
                document_date=timezone.localdate(now),
                content=content,
                file_type=file_type,
                original_name=getattr(upload, "name", "") or "evidence",
                actor=actor,
                now=now,
            )
            if signed is not None:
                record_signature_check(
                    version=document.versions.get(), signed=signed, actor=actor, now=now
                )
            row.evidence.add(document)
        row.status = ItemStatus.PROVIDED
        row.answer = answer or row.answer
        row.note = note.strip()[:300] or row.note
        row.changed_at = now
        row.save(update_fields=["status", "answer", "note", "changed_at"])
        record(
            actor=actor,
            code="compliance.plant_item.provided",
            now=now,
            target=row,
            community=_community(plant),
            changes={
                "code": code,
                "status": [before, ItemStatus.PROVIDED],
                "answer": row.answer,
                "document": document.pk if document else None,
            },
        )
    return row


def accept(*, plant: Plant, code: str, actor: Any, now: dt.datetime) -> PlantComplianceItem:
    """Mark a PROVIDED item ACCEPTED: a manager checked its evidence (irreversible but for
    new evidence). A question answered NO cannot be accepted: the plant does not meet it.

    Raises ComplianceError for an item not PROVIDED, or a NO answer.
    """
    spec = rules.ITEMS_BY_CODE.get(code)
    row = PlantComplianceItem.objects.filter(plant=plant, code=code).first()
    if spec is None or row is None or row.status != ItemStatus.PROVIDED:
        raise refuse("code", _("Only an item with its evidence provided can be accepted."))
    if spec.question and row.answer != "YES":
        raise refuse("answer", _("The answer is no: the plant does not meet this criterion."))
    with transaction.atomic():
        row.status = ItemStatus.ACCEPTED
        row.changed_at = now
        row.save(update_fields=["status", "changed_at"])
        record(
            actor=actor,
            code="compliance.plant_item.accepted",
            now=now,
            target=row,
            community=_community(plant),
            changes={"code": code, "status": [ItemStatus.PROVIDED, ItemStatus.ACCEPTED]},
        )
    return row
