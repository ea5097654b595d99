"""The anti-mafia file of a community (D.Lgs. 159/2011): when it is needed, who is checked,
the declarations they give, their expiry, and the bundle for the BDNA.

The file is needed once the grants on record for the community exceed the threshold of
rules.threshold_on (art. 91 c. 1 lett. b). The subjects are the office holders in office
whose role rules.SUBJECT_ROLES lists (art. 85); each declares the adult family members living
with them (art. 85 c. 3) in a signed self-declaration, stored in the community's archive
through cer.documents (its signature is verified there). Pages and any API call these
functions; each write is atomic and audited with a `compliance.*` code, and bad input raises
ComplianceError naming the field, storing nothing. See docs/antimafia.md.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.communities.models import Community
from cer.compliance import rules
from cer.compliance.errors import refuse
from cer.compliance.models import AntimafiaDeclaration, OfficeHolder, OfficeRole
from cer.core.csv_export import CsvDialect, DialectCsv
from cer.core.validators import normalise_code, validate_personal_fiscal_code
from cer.documents.models import Document, DocumentKind, SignatureCheck
from cer.documents.services import (
    UploadRefused,
    check_signed_upload,
    create_document,
    record_signature_check,
)
from cer.grants.models import Applicant, ApplicationState, GrantApplication, OtherGrant

ADULT_AGE_YEARS = 18


class DeclarationState:
    """Codes of a subject's state; labels are written by `state_label`."""

    MISSING = "MISSING"
    VALID = "VALID"
    EXPIRING = "EXPIRING"
    EXPIRED = "EXPIRED"


def state_label(state: str) -> str:
    return {
        DeclarationState.MISSING: _("missing"),
        DeclarationState.VALID: _("valid"),
        DeclarationState.EXPIRING: _("to renew soon"),
        DeclarationState.EXPIRED: _("expired"),
    }[state]


# When the file is needed ---------------------------------------------------------------------


@dataclass(frozen=True)
class GrantOnRecord:
    """A grant counted towards the threshold: what it is, its amount [EUR] and date."""

    label: str
    amount_eur: Decimal
    on_date: dt.date | None


@dataclass(frozen=True)
class FileNeed:
    """Whether the community needs the anti-mafia file on `day`, and why."""

    day: dt.date
    required: bool
    total_eur: Decimal
    threshold: rules.DatedAmount | None
    grants: tuple[GrantOnRecord, ...]


def _local(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment is not None else None


def grants_on_record(community: Community, *, day: dt.date) -> list[GrantOnRecord]:
    """Return the public grants on record for the community on `day` (Europe/Rome).

    A granted PNRR file counts its grant from the day of the decision; a file ready or
    submitted counts its requested grant, since the documentation is acquired before the
    grant is given (art. 91 c. 1); refused files and drafts do not count. Files applied for
    by a plant's owner concern the owner, not the community. Other public grants on the
    community's plants count from their date (their beneficiary is not recorded: counting
    them is the cautious reading [U]).
    """
    in_community = Q(plant__connection_point__configuration__community=community)
    rows: list[GrantOnRecord] = []
    files = GrantApplication.objects.filter(in_community, applicant=Applicant.COMMUNITY)
    for application in files.select_related("plant").order_by("pk"):
        label = _("PNRR grant, %(plant)s") % {"plant": application.plant.name}
        if application.state == ApplicationState.GRANTED:
            decided = _local(application.decided_at)
            if decided is not None and decided <= day and application.granted_eur:
                rows.append(GrantOnRecord(label, application.granted_eur, decided))
        elif application.state in (ApplicationState.READY, ApplicationState.SUBMITTED):
            submitted = _local(application.submitted_at)
            if (submitted is None or submitted <= day) and application.requested_grant_eur:
                rows.append(
                    GrantOnRecord(
                        _("%(label)s (requested)") % {"label": label},
                        application.requested_grant_eur,
                        submitted,
                    )
                )
    others = OtherGrant.objects.filter(in_community, grant_date__lte=day).select_related("plant")
    for grant in others.order_by("grant_date", "pk"):
        rows.append(
            GrantOnRecord(
                _("%(source)s, %(plant)s") % {"source": grant.source, "plant": grant.plant.name},
                grant.amount_eur,
                grant.grant_date,
            )
        )
    return rows


def file_need(community: Community, *, day: dt.date) -> FileNeed:
    """Return whether the grants on record on `day` exceed the threshold then in force.

    Source: D.Lgs. 159/2011 art. 91 c. 1 lett. b, "superiore a 150.000 euro" [V]; the
    grants are summed, since art. 91 c. 2 forbids splitting them to stay below [V].
    """
    grants = tuple(grants_on_record(community, day=day))
    total = sum((grant.amount_eur for grant in grants), Decimal("0.00"))
    threshold = rules.threshold_on(day)
    required = threshold is not None and total > threshold.amount_eur
    return FileNeed(day=day, required=required, total_eur=total, threshold=threshold, grants=grants)


# Office holders -------------------------------------------------------------------------------


def _audit(
    actor: Any, code: str, now: dt.datetime, target: Any, community: Any, changes: Any
) -> None:
    record(actor=actor, code=code, now=now, target=target, community=community, changes=changes)


def _tax_code(value: str, field: str) -> str:
    code = normalise_code(value)
    try:
        validate_personal_fiscal_code(code)
    except ValidationError as error:
        raise refuse(field, " ".join(error.messages)) from None
    return code


def add_office_holder(
    *,
    community: Community,
    full_name: str,
    tax_code: str,
    role: str,
    valid_from: dt.date | None,
    valid_to: dt.date | None = None,
    actor: Any,
    now: dt.datetime,
) -> OfficeHolder:
    """Record a person in office in the community's bodies.

    Raises ComplianceError for a missing name or date, a bad tax code, an unknown role, an
    end not after the start, or the same person already in the same office at that time.
    """
    if not full_name.strip():
        raise refuse("full_name", _("Give the person's full name."))
    code = _tax_code(tax_code, "tax_code")
    if role not in OfficeRole.values:
        raise refuse("role", _("Choose one of the listed roles."))
    if valid_from is None:
        raise refuse("valid_from", _("Give the day the office began."))
    if valid_to is not None and valid_to <= valid_from:
        raise refuse("valid_to", _("The office must end after it begins."))
    overlapping = OfficeHolder.objects.filter(community=community, tax_code=code, role=role).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)
    )
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lt=valid_to)
    if overlapping.exists():
        raise refuse("tax_code", _("This person already holds this office at that time."))
    with transaction.atomic():
        holder = OfficeHolder.objects.create(
            community=community,
            full_name=full_name.strip(),
            tax_code=code,
            role=role,
            valid_from=valid_from,
            valid_to=valid_to,
            created_at=now,
        )
        _audit(
            actor,
            "compliance.office_holder.added",
            now,
            holder,
            community,
            {
                "role": role,
                "valid_from": valid_from.isoformat(),
                "valid_to": valid_to.isoformat() if valid_to else None,
            },
        )
    return holder


def end_office(
    *, holder: OfficeHolder, valid_to: dt.date | None, actor: Any, now: dt.datetime
) -> OfficeHolder:
    """Record the day a holder leaves office (exclusive); the record is kept.

    Raises ComplianceError for a missing day, one not after the start, or an office
    already ended.
    """
    if holder.valid_to is not None:
        raise refuse("valid_to", _("This office has already ended."))
    if valid_to is None:
        raise refuse("valid_to", _("Give the day the office ends."))
    if valid_to <= holder.valid_from:
        raise refuse("valid_to", _("The office must end after it begins."))
    with transaction.atomic():
        holder.valid_to = valid_to
        holder.save(update_fields=["valid_to"])
        _audit(
            actor,
            "compliance.office_holder.ended",
            now,
            holder,
            holder.community,
            {"valid_to": ["", valid_to.isoformat()]},
        )
    return holder


def subjects(community: Community, *, day: dt.date) -> list[OfficeHolder]:
    """Return the holders in office on `day` whose role is subject to checks (art. 85)."""
    holders = OfficeHolder.objects.filter(
        community=community, role__in=list(rules.SUBJECT_ROLES), valid_from__lte=day
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    return list(holders.order_by("role", "full_name", "pk"))


def recent_changes(community: Community, *, day: dt.date) -> list[OfficeHolder]:
    """Return the subjects' offices begun or ended in the last days art. 86 c. 3 gives."""
    since = day - dt.timedelta(days=rules.CHANGE_NOTICE_DAYS)
    holders = OfficeHolder.objects.filter(community=community, role__in=list(rules.SUBJECT_ROLES))
    changed = holders.filter(
        Q(valid_from__gt=since, valid_from__lte=day) | Q(valid_to__gt=since, valid_to__lte=day)
    )
    return list(changed.order_by("valid_from", "pk"))


# Declarations ---------------------------------------------------------------------------------


def months_after(day: dt.date, months: int) -> dt.date:
    """Return the same day `months` later (the month's last day when it has fewer days)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _adult_on(birth: dt.date, day: dt.date) -> bool:
    try:
        eighteenth = birth.replace(year=birth.year + ADULT_AGE_YEARS)
    except ValueError:  # born on 29 February
        eighteenth = dt.date(birth.year + ADULT_AGE_YEARS, 3, 1)
    return eighteenth <= day


def clean_relatives(relatives: Iterable[Mapping[str, Any]], *, signed_date: dt.date) -> list[dict]:
    """Return the declared family members as stored, or raise ComplianceError naming the
    row and field (`relatives[2].tax_code`).

    Each has a full name, a personal tax code, a birth date making them an adult on the day
    of the declaration (art. 85 c. 3 concerns adult family members [S]) and the relation.
    """
    cleaned: list[dict] = []
    seen: set[str] = set()
    for index, row in enumerate(relatives):
        prefix = f"relatives[{index}]"
        name = str(row.get("full_name") or "").strip()
        if not name:
            raise refuse(f"{prefix}.full_name", _("Give the family member's full name."))
        code = _tax_code(str(row.get("tax_code") or ""), f"{prefix}.tax_code")
        if code in seen:
            raise refuse(f"{prefix}.tax_code", _("This person is listed twice."))
        seen.add(code)
        birth = row.get("birth_date")
        if isinstance(birth, str):
            try:
                birth = dt.date.fromisoformat(birth)
            except ValueError:
                birth = None
        if not isinstance(birth, dt.date):
            raise refuse(f"{prefix}.birth_date", _("Give the birth date (YYYY-MM-DD)."))
        if not _adult_on(birth, signed_date):
            raise refuse(
                f"{prefix}.birth_date",
                _("Only adult family members living with the person are declared."),
            )
        relation = str(row.get("relation") or "").strip()
        if not relation:
            raise refuse(f"{prefix}.relation", _("Say how they are related (spouse, son…)."))
        cleaned.append(
            {
                "full_name": name[:200],
                "tax_code": code,
                "birth_date": birth.isoformat(),
                "relation": relation[:60],
            }
        )
    return cleaned


def record_declaration(
    *,
    holder: OfficeHolder,
    signed_date: dt.date | None,
    relatives: Iterable[Mapping[str, Any]],
    upload: Any,
    actor: Any,
    now: dt.datetime,
) -> AntimafiaDeclaration:
    """Store a holder's signed self-declaration and the family members it lists.

    The file goes to the community's archive (cer.documents) with its signature verified:
    an unsigned or badly signed file is stored with the result in words, never as valid. It
    is valid for rules.DECLARATION_VALID_MONTHS from the day it was signed. Raises
    ComplianceError for a missing or future date, a bad family member row, or a file the
    archive refuses.
    """
    today = timezone.localdate(now)
    if signed_date is None:
        raise refuse("signed_date", _("Give the day the declaration was signed."))
    if signed_date > today:
        raise refuse("signed_date", _("The declaration cannot be signed in the future."))
    cleaned = clean_relatives(relatives, signed_date=signed_date)
    if upload is None:
        raise refuse("file", _("Upload the signed declaration."))
    try:
        content, file_type, signed = check_signed_upload(upload, signed=True)
    except UploadRefused as refusal:
        raise refuse("file", str(refusal.message)) from None
    with transaction.atomic():
        document = create_document(
            community=holder.community,
            kind=DocumentKind.OTHER,
            title=_("Anti-mafia declaration of %(name)s") % {"name": holder.full_name},
            document_date=signed_date,
            content=content,
            file_type=file_type,
            original_name=getattr(upload, "name", "") or "dichiarazione",
            actor=actor,
            now=now,
        )
        if signed is not None:
            record_signature_check(
                version=document.versions.get(), signed=signed, actor=actor, now=now
            )
        declaration = AntimafiaDeclaration.objects.create(
            holder=holder,
            signed_date=signed_date,
            valid_until=months_after(signed_date, rules.DECLARATION_VALID_MONTHS),
            relatives=cleaned,
            document=document,
            recorded_at=now,
        )
        _audit(
            actor,
            "compliance.declaration.recorded",
            now,
            declaration,
            holder.community,
            {
                "holder": holder.pk,
                "signed_date": signed_date.isoformat(),
                "relatives": len(cleaned),
                "document": document.pk,
            },
        )
    return declaration


def latest_declaration(holder: OfficeHolder, *, day: dt.date) -> AntimafiaDeclaration | None:
    """Return the holder's declaration signed last on or before `day`."""
    return (
        holder.declarations.filter(signed_date__lte=day)
        .order_by("-signed_date", "-pk")
        .select_related("document")
        .first()
    )


def declaration_state(declaration: AntimafiaDeclaration | None, *, day: dt.date) -> str:
    if declaration is None:
        return DeclarationState.MISSING
    if declaration.valid_until <= day:
        return DeclarationState.EXPIRED
    if (declaration.valid_until - day).days <= rules.REMINDER_DAYS_BEFORE:
        return DeclarationState.EXPIRING
    return DeclarationState.VALID


def signature_of(document: Document | None) -> SignatureCheck | None:
    """Return the latest signature check of the document's latest version, if any."""
    version = document.latest_version if document is not None else None
    if version is None:
        return None
    return version.signature_checks.order_by("-checked_at", "-pk").first()


@dataclass(frozen=True)
class SubjectRow:
    """One person subject to checks, with their declaration and its state on a day."""

    holder: OfficeHolder
    source: str
    declaration: AntimafiaDeclaration | None
    state: str
    signature: SignatureCheck | None

    @property
    def state_label(self) -> str:
        return state_label(self.state)


def subject_rows(community: Community, *, day: dt.date) -> list[SubjectRow]:
    """Return each subject with their latest declaration, its state and signature check."""
    rows = []
    for holder in subjects(community, day=day):
        declaration = latest_declaration(holder, day=day)
        rows.append(
            SubjectRow(
                holder=holder,
                source=rules.SUBJECT_ROLES[holder.role],
                declaration=declaration,
                state=declaration_state(declaration, day=day),
                signature=signature_of(declaration.document if declaration else None),
            )
        )
    return rows


# The bundle for the BDNA ---------------------------------------------------------------------

INDEX_COLUMNS = (
    ("tax_code", _("Tax code")),
    ("full_name", _("Full name")),
    ("role", _("Role")),
    ("in_office_from", _("In office from")),
    ("in_office_until", _("In office until")),
    ("declaration_signed", _("Declaration signed on")),
    ("declaration_valid_until", _("Valid until")),
    ("state", _("State")),
    ("relatives", _("Family members declared")),
    ("signature", _("Signature")),
    ("file", _("File")),
)
RELATIVE_COLUMNS = (
    ("subject_tax_code", _("Tax code of the subject")),
    ("full_name", _("Full name")),
    ("tax_code", _("Tax code")),
    ("birth_date", _("Birth date")),
    ("relation", _("Relation")),
)


def export_zip(
    community: Community, *, actor: Any, now: dt.datetime, dialect: CsvDialect = CsvDialect.EXCEL
) -> bytes:
    """Return a ZIP for submission to the BDNA: `soggetti.csv` (one row per subject),
    `familiari.csv` (one row per declared family member) and `documenti/` (each subject's
    latest declaration as stored). The export is audited: it carries personal data.
    """
    day = timezone.localdate(now)
    rows = subject_rows(community, day=day)
    index = DialectCsv(dialect)
    index.header([c for c, _label in INDEX_COLUMNS], [label for _c, label in INDEX_COLUMNS])
    relatives = DialectCsv(dialect)
    relatives.header(
        [c for c, _label in RELATIVE_COLUMNS], [label for _c, label in RELATIVE_COLUMNS]
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            holder, declaration = row.holder, row.declaration
            file_name = ""
            if declaration is not None:
                version = declaration.document.latest_version
                if version is not None:
                    extension = version.file.name.rsplit(".", 1)[-1]
                    stem = f"{holder.tax_code}-{declaration.signed_date:%Y%m%d}"
                    file_name = f"documenti/{stem}.{extension}"
                    with version.file.open("rb") as stored:
                        archive.writestr(file_name, stored.read())
                for relative in declaration.relatives:
                    relatives.writerow(
                        [
                            holder.tax_code,
                            relative["full_name"],
                            relative["tax_code"],
                            dt.date.fromisoformat(relative["birth_date"]),
                            relative["relation"],
                        ]
                    )
            index.writerow(
                [
                    holder.tax_code,
                    holder.full_name,
                    holder.get_role_display(),
                    holder.valid_from,
                    holder.valid_to or "",
                    declaration.signed_date if declaration else "",
                    declaration.valid_until if declaration else "",
                    row.state_label,
                    len(declaration.relatives) if declaration else 0,
                    row.signature.summary if row.signature else "",
                    file_name,
                ]
            )
        archive.writestr("soggetti.csv", index.content().encode("utf-8"))
        archive.writestr("familiari.csv", relatives.content().encode("utf-8"))
    _audit(
        actor,
        "compliance.antimafia.exported",
        now,
        community,
        community,
        {"subjects": len(rows)},
    )
    return buffer.getvalue()
