"""SEPA CORE mandates and the community's creditor settings.

A mandate is the member's signed authorisation: a reference generated once and never
changed ("CER<community>-<member>-<n>"), the signature date (required: the pain.008 file
states it, DtOfSgntr), the account holder and IBAN (checked with schwifty), and the
sequence of its next collection: FRST until a collection under it is put in a file, RCUR
afterwards. What we do on a change of IBAN (docs/collections.md): the mandate keeps its
reference and is marked amended; its next collection is sent as FRST again. The SEPA Core
rulebook (since version 9.0, November 2016) lets a creditor send RCUR after a change of
debtor account, and every bank accepts FRST in its place; sepaxml cannot write the
amendment details (AmdmntInd, OrgnlDbtrAcct), so FRST is the choice that needs none.
A revoked mandate is kept, never deleted; a member has at most one live mandate per
community.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.collections.errors import CollectionError
from cer.collections.models import CollectionSettings, Mandate, Sequence
from cer.collections.sepa import validate_creditor_id
from cer.communities.models import Community
from cer.core.validators import normalise_code, validate_fiscal_code, validate_iban
from cer.members.changes import mask_iban
from cer.members.models import Member, Membership

# ISO 9362, as the pain.008.001.02 schema writes it.
_BIC = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")


def settings_of(community: Community) -> CollectionSettings:
    """Return the community's collection settings (empty ones until saved)."""
    found = CollectionSettings.objects.filter(community=community).first()
    return found or CollectionSettings(community=community)


def _iban(value: str, field: str) -> str:
    code = normalise_code(value)
    if not code:
        raise CollectionError(_("the IBAN is required"), field=field)
    try:
        validate_iban(code)
    except ValidationError as error:
        raise CollectionError(" ".join(error.messages), field=field) from error
    return code


def save_settings(
    *,
    community: Community,
    creditor_id: str,
    creditor_name: str,
    creditor_iban: str,
    creditor_bic: str,
    prenotification_days: int,
    pagopa_enabled: bool = False,
    pagopa_organisation_fiscal_code: str = "",
    pagopa_iban: str = "",
    actor: Any,
    now: dt.datetime,
) -> CollectionSettings:
    """Store the community's creditor identifier, account and pagoPA set-up (audited)."""
    creditor_id = validate_creditor_id(creditor_id)
    if not creditor_name.strip():
        raise CollectionError(_("the creditor name is required"), field="creditor_name")
    iban = _iban(creditor_iban, "creditor_iban")
    bic = normalise_code(creditor_bic)
    if not _BIC.fullmatch(bic):
        # pain.008.001.02 names the creditor's bank by its BIC (CdtrAgt/FinInstnId/BIC).
        raise CollectionError(
            _("the BIC of the account credited is required: 8 or 11 letters and digits"),
            field="creditor_bic",
        )
    if not 1 <= prenotification_days <= 60:
        raise CollectionError(
            _("the lead time is between 1 and 60 days"), field="prenotification_days"
        )
    organisation = normalise_code(pagopa_organisation_fiscal_code)
    if pagopa_enabled:
        organisation = organisation or normalise_code(community.fiscal_code)
        if len(organisation) != 11:
            raise CollectionError(
                _("pagoPA needs the public body's 11-digit fiscal code"),
                field="pagopa_organisation_fiscal_code",
            )
        try:
            validate_fiscal_code(organisation)
        except ValidationError as error:
            raise CollectionError(
                " ".join(error.messages), field="pagopa_organisation_fiscal_code"
            ) from error
        pagopa_iban = _iban(pagopa_iban or iban, "pagopa_iban")
    with transaction.atomic():
        stored, _created = CollectionSettings.objects.select_for_update().get_or_create(
            community=community
        )
        before = stored.creditor_id
        stored.creditor_id = creditor_id
        stored.creditor_name = creditor_name.strip()[:70]
        stored.creditor_iban = iban
        stored.creditor_bic = bic
        stored.prenotification_days = prenotification_days
        stored.pagopa_enabled = pagopa_enabled
        stored.pagopa_organisation_fiscal_code = organisation
        stored.pagopa_iban = normalise_code(pagopa_iban)
        stored.updated_at = now
        stored.save()
        record(
            actor=actor,
            code="collections.settings.changed",
            now=now,
            target=stored,
            community=community,
            changes={
                "creditor_id": [before, creditor_id],
                "creditor_iban": mask_iban(iban),
                "prenotification_days": prenotification_days,
                "pagopa_enabled": pagopa_enabled,
            },
        )
    return stored


def _reference(community: Community, member: Member) -> str:
    number = Mandate.objects.filter(community=community, member=member).count() + 1
    return f"CER{community.pk}-{member.pk}-{number}"


def create_mandate(
    *,
    community: Community,
    member: Member,
    signed_date: dt.date | None,
    debtor_name: str,
    iban: str,
    bic: str = "",
    actor: Any,
    now: dt.datetime,
) -> Mandate:
    """Record a signed mandate. Raises CollectionError naming the field at fault."""
    if signed_date is None:
        raise CollectionError(
            _("the signature date is required: a mandate is valid from its signature"),
            field="signed_date",
        )
    if signed_date > now.date() + dt.timedelta(days=1):
        raise CollectionError(_("the signature date is in the future"), field="signed_date")
    if not debtor_name.strip():
        raise CollectionError(_("the account holder is required"), field="debtor_name")
    code = _iban(iban, "iban")
    if not Membership.objects.filter(community=community, member=member).exists():
        raise CollectionError(
            _("%(member)s is not a member of %(community)s")
            % {"member": member.display_name, "community": community.name},
            field="member",
        )
    try:
        with transaction.atomic():
            mandate = Mandate.objects.create(
                community=community,
                member=member,
                reference=_reference(community, member),
                signed_date=signed_date,
                debtor_name=debtor_name.strip()[:70],
                iban=code,
                bic=normalise_code(bic),
                created_at=now,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            _audit(mandate, actor, now, "collections.mandate.created", {})
    except IntegrityError as error:
        raise CollectionError(
            _("%(member)s already has a live mandate: revoke it first")
            % {"member": member.display_name},
            field="member",
        ) from error
    return mandate


def _audit(
    mandate: Mandate, actor: Any, now: dt.datetime, code: str, extra: dict[str, Any]
) -> None:
    record(
        actor=actor,
        code=code,
        now=now,
        target=mandate,
        community=mandate.community,
        changes={
            "reference": mandate.reference,
            "member_id": mandate.member_id,
            "signed_date": mandate.signed_date.isoformat(),
            "iban": mask_iban(mandate.iban),
            **extra,
        },
    )


def change_iban(
    *, mandate: Mandate, iban: str, bic: str = "", actor: Any, now: dt.datetime
) -> Mandate:
    """Amend a mandate's account: same reference, next collection sent as FRST again."""
    code = _iban(iban, "iban")
    with transaction.atomic():
        locked = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if not locked.active:
            raise CollectionError(_("this mandate was revoked"), field="iban")
        before = mask_iban(locked.iban)
        locked.iban = code
        locked.bic = normalise_code(bic)
        locked.next_sequence = Sequence.FIRST
        locked.iban_changed_at = now
        locked.save(update_fields=["iban", "bic", "next_sequence", "iban_changed_at"])
        _audit(locked, actor, now, "collections.mandate.iban_changed", {"before": before})
    return locked


def revoke_mandate(*, mandate: Mandate, reason: str, actor: Any, now: dt.datetime) -> Mandate:
    """Revoke a mandate: no later batch may use it; collections already filed stand."""
    if not reason.strip():
        raise CollectionError(_("say why the mandate is revoked"), field="reason")
    with transaction.atomic():
        locked = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if not locked.active:
            raise CollectionError(_("this mandate was already revoked"), field="reason")
        locked.revoked_at = now
        locked.revoke_reason = reason.strip()[:300]
        locked.save(update_fields=["revoked_at", "revoke_reason"])
        _audit(locked, actor, now, "collections.mandate.revoked", {"reason": locked.revoke_reason})
    return locked


def live_mandates(community_id: int, member_ids: list[int]) -> dict[int, Mandate]:
    """Return each member's live mandate to the community, by member id."""
    return {
        m.member_id: m
        for m in Mandate.objects.filter(
            community_id=community_id, member_id__in=member_ids, revoked_at__isnull=True
        )
    }
