"""Data-subject rights and the controller's duties under the GDPR.

- export (art. 15 and 20): everything about a person, as JSON and CSV in a ZIP;
- erasure (art. 17): anonymise the person, keep what the law requires, say why;
- retention (art. 5.1.e): periodic rules run by `manage.py apply_retention`;
- the register of processing activities (art. 30) of a community, as rows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import zipfile
from typing import Any

from django.contrib.sessions.models import Session
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from cer.audit.models import AuditEntry
from cer.audit.services import record
from cer.communities.models import Community
from cer.core import background
from cer.core.safe_export import csv_writer
from cer.members.models import Member, Membership, MembershipApplication
from cer.plants.models import ConnectionPoint, Plant
from cer.privacy import redaction
from cer.privacy.contributions import RetentionRule, erasures, export_sections, retention_rules
from cer.privacy.models import Consent, Erasure

logger = logging.getLogger(__name__)

# Accounting records and the documents behind them are kept ten years (art. 2220
# codice civile; art. 22 DPR 600/1973); GSE settlement data follow the same term.
ACCOUNTING_RETENTION = dt.timedelta(days=3653)
LOGIN_FAILURE_RETENTION = dt.timedelta(days=30)
NEVER_JOINED_RETENTION = dt.timedelta(days=730)
ERASED = "[erased]"


class MembershipStillActive(Exception):
    """The member still belongs (or will belong) to a community: end the membership first."""


class AlreadyErased(Exception):
    """The member was already anonymised."""


# --- export -------------------------------------------------------------------------------


def _rows(queryset: Any, fields: list[str]) -> list[dict[str, Any]]:
    return [dict(zip(fields, values, strict=True)) for values in queryset.values_list(*fields)]


def personal_data(*, user: Any) -> dict[str, list[dict[str, Any]]]:
    """Return every record about `user` and their member profile, section by section."""
    account_fields = ["id", "username", "email", "first_name", "last_name", "date_joined"]
    data: dict[str, list[dict[str, Any]]] = {
        "account": [
            {**{f: getattr(user, f) for f in account_fields}, "last_login": user.last_login}
        ],
        "consents": [
            {
                "purpose": c.purpose,
                "notice_version": c.notice.version,
                "given_at": c.given_at,
                "withdrawn_at": c.withdrawn_at,
            }
            for c in Consent.objects.filter(user=user).select_related("notice")
        ],
        "activity": _rows(
            AuditEntry.objects.filter(actor=user).order_by("at", "pk"),
            ["at", "code", "target_type", "target_id", "target_repr"],
        ),
    }
    member = Member.objects.filter(user=user).first()
    if member is None:
        return data
    # The municipality by its id: the export holds data, not the model's text for it.
    personal = [name for name in Member.PERSONAL_FIELDS if name != "municipality"]
    member_fields = ["id", *personal, "municipality_id", "created_at"]
    data["member"] = [{name: getattr(member, name) for name in member_fields}]
    # The IBAN is each membership's: the account that community pays to.
    data["memberships"] = _rows(
        Membership.objects.filter(member=member).order_by("valid_from"),
        ["community__name", "role", "kind", "valid_from", "valid_to", "iban"],
    )
    points = ConnectionPoint.objects.filter(holder=member).order_by("pod")
    data["connection_points"] = _rows(
        points,
        [
            "id",
            "pod",
            "configuration__name",
            "voltage_level",
            "contracted_power_kw",
            "has_withdrawal",
            "has_injection",
            "address",
        ],
    )
    data["plants"] = _rows(
        Plant.objects.filter(owner=member).order_by("pk"),
        [
            "id",
            "name",
            "connection_point__pod",
            "source",
            "power_kw",
            "entry_into_service_date",
            "regime",
            "storage_capacity_kwh",
            "cadastral_sheet",
            "cadastral_parcel",
            "cadastral_subunit",
        ],
    )
    # Sections kept by apps on higher floors (devices, readings): cer.privacy.contributions.
    for name, rows_of_member in export_sections().items():
        data[name] = rows_of_member(member)
    data["erasures"] = _rows(
        Erasure.objects.filter(member=member), ["completed_at", "reason", "erased", "kept"]
    )
    return data


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        # Texts the user typed cannot become formulas in a spreadsheet (safe_export).
        writer = csv_writer(buffer)
        fields = list(rows[0])
        writer.writerow(fields)
        for row in rows:
            writer.writerow([_plain(row.get(field, "")) for field in fields])
    return buffer.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, cls=DjangoJSONEncoder)
    return value


def export_personal_data(*, user: Any, now: dt.datetime) -> bytes:
    """Return a ZIP with `data.json` and one CSV per section of the user's data.

    The export is recorded in the audit log (without its contents).
    """
    data = personal_data(user=user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        document = {"generated_at": now, "sections": data}
        archive.writestr(
            "data.json", json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        )
        for section, rows in data.items():
            archive.writestr(f"{section}.csv", _csv(rows))
    record(
        actor=user,
        code="privacy.data.exported",
        now=now,
        target=user,
        changes={"sections": sorted(data)},
    )
    return buffer.getvalue()


# --- erasure ------------------------------------------------------------------------------


def _kept(data: str, reason: str, until: dt.date | None) -> dict[str, str]:
    return {"data": data, "reason": reason, "until": until.isoformat() if until else ""}


def erase_member(*, member: Member, actor: Any, reason: str, now: dt.datetime) -> Erasure:
    """Anonymise a member and their account, keeping what the law requires.

    Contact data, bank details, identifiers and the login are removed; memberships,
    readings, connection points and plants stay (anonymised through the member) for
    settlement and accounting until ten years after the last membership ended. Copies of
    the name, e-mail and addresses in invitations, applications and the audit log are
    replaced too (cer.privacy.redaction).
    Raises MembershipStillActive and AlreadyErased.
    """
    today = now.date()
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if Erasure.objects.filter(member=member).exists():
            raise AlreadyErased(member.pk)
        if (
            Membership.objects.filter(member=member)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
            .exists()
        ):
            raise MembershipStillActive(member.pk)
        last_end = Membership.objects.filter(member=member).aggregate(last=Max("valid_to"))["last"]
        keep_until = (last_end or today) + ACCOUNTING_RETENTION
        # Copies of the name, e-mail and addresses elsewhere, found while they are known.
        traces = redaction.gather_traces(member=member)
        member.first_name = ""
        member.last_name = f"{ERASED} #{member.pk}"
        member.company_name = f"{ERASED} #{member.pk}" if member.company_name else ""
        # The tax code is unique: a placeholder keeps the constraint and says nothing.
        # Its blind index replaces the old one, so the erased code no longer finds the row.
        member.fiscal_code = f"X{member.pk:015d}"[-16:]
        member.vat_number = ""
        member.sync_indexes()
        member.email = f"erased-{member.pk}@invalid.invalid"
        member.pec = ""
        member.phone = ""
        member.address = ERASED
        # Bank details live on the memberships and on the applications that carried them.
        Membership.objects.filter(member=member).update(iban="")
        MembershipApplication.objects.filter(member=member).update(iban="")
        member.save(
            update_fields=[
                "first_name",
                "last_name",
                "company_name",
                "fiscal_code",
                "fiscal_code_index",
                "vat_number",
                "vat_number_index",
                "email",
                "pec",
                "phone",
                "address",
            ]
        )
        ConnectionPoint.objects.filter(holder=member).update(address="")
        erased = [
            "name",
            "tax code",
            "VAT number",
            "email",
            "PEC",
            "phone",
            "address",
            "IBAN",
            "connection point addresses",
            "invitation emails",
            "addresses declared in membership applications",
            "names, emails and addresses in the audit log",
        ]
        for erase in erasures().values():
            erased += erase(member, now)
        user = member.user
        if user is not None:
            _erase_account(user=user, now=now)
            erased += ["login account", "second factor", "sessions and API tokens"]
        kept = [
            _kept(
                "memberships (community, role, dates)",
                str(_("Settlement with GSE and accounting records (art. 2220 c.c.).")),
                keep_until,
            ),
            _kept(
                "POD codes, plants and hourly readings",
                str(_("Basis of incentives already distributed; GSE may audit them.")),
                keep_until,
            ),
            _kept(
                "invoices and payments",
                str(
                    _(
                        "Tax records with their own copy of the parties' data "
                        "(art. 22 DPR 600/1973, 10 years)."
                    )
                ),
                keep_until,
            ),
            _kept(
                "consents given and withdrawn",
                str(_("Proof of consent (GDPR art. 7.1).")),
                keep_until,
            ),
            _kept(
                "audit log entries (time, action, object), personal values replaced",
                str(
                    _(
                        "Accountability of changes made to the community's records "
                        "(GDPR art. 5.2 and 17.3.b); amounts and membership history stay "
                        "for accounting (art. 2220 c.c., 10 years)."
                    )
                ),
                keep_until,
            ),
        ]
        erasure = Erasure.objects.create(
            member=member,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            reason=reason,
            completed_at=now,
            erased=erased,
            kept=kept,
        )
        record(
            actor=actor,
            code="privacy.member.erased",
            now=now,
            target=erasure,
            changes={"reason": reason, "member": member.pk},
        )
        redaction.erase_traces(traces=traces, actor=actor, now=now, target=erasure)
    logger.info("privacy.member.erased %s", member.pk)
    return erasure


def _erase_account(*, user: Any, now: dt.datetime) -> None:
    from cer.accounts.revocation import revoke_everything

    revoke_everything(user=user, now=now, reason="erased")
    TOTPDevice.objects.filter(user=user).delete()
    Consent.objects.filter(user=user, withdrawn_at__isnull=True).update(withdrawn_at=now)
    user.username = f"erased-{user.pk}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    # An unusable password also ends every session (their hash no longer matches).
    user.set_unusable_password()
    user.save(
        update_fields=["username", "email", "first_name", "last_name", "is_active", "password"]
    )


# --- retention ----------------------------------------------------------------------------


def _drop_login_failures(now: dt.datetime) -> int:
    from cer.accounts.models import LoginFailure

    deleted, _detail = LoginFailure.objects.filter(at__lt=now - LOGIN_FAILURE_RETENTION).delete()
    return deleted


def _drop_expired_tokens(now: dt.datetime) -> int:
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    deleted, _detail = OutstandingToken.objects.filter(expires_at__lt=now).delete()
    return deleted


def _drop_expired_sessions(now: dt.datetime) -> int:
    deleted, _detail = Session.objects.filter(expire_date__lt=now).delete()
    return deleted


def _erase_members(members: Any, reason: str, now: dt.datetime) -> int:
    count = 0
    for member in members.exclude(erasures__isnull=False):
        try:
            erase_member(member=member, actor=None, reason=reason, now=now)
        except MembershipStillActive:
            continue
        count += 1
    return count


def _erase_former_members(now: dt.datetime) -> int:
    horizon = now.date() - ACCOUNTING_RETENTION
    still_needed = Membership.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=horizon)
    ).values("member_id")
    former = Member.objects.filter(memberships__isnull=False).exclude(pk__in=still_needed)
    return _erase_members(former.distinct(), "retention: ten years after the membership", now)


def _erase_never_joined(now: dt.datetime) -> int:
    stale = Member.objects.filter(
        memberships__isnull=True, created_at__lt=now - NEVER_JOINED_RETENTION
    )
    return _erase_members(stale, "retention: registered but never joined", now)


_CLEAN_UPS = (
    RetentionRule("login_failures", "Failed logins: deleted after 30 days", _drop_login_failures),
    RetentionRule("api_tokens", "Expired API tokens: deleted", _drop_expired_tokens),
    RetentionRule("sessions", "Expired web sessions: deleted", _drop_expired_sessions),
    RetentionRule(
        "task_result_files",
        "Files made by background tasks (exports, statement bundles, reports): deleted "
        "TASK_RESULT_RETENTION_DAYS after the task ended (default 7)",
        lambda now: background.delete_expired_results(now=now),
    ),
)
_ERASURES = (
    RetentionRule(
        "former_members",
        "Former members: anonymised ten years after their last membership ended",
        _erase_former_members,
    ),
    RetentionRule(
        "never_joined",
        "Profiles that never became a membership: anonymised after two years",
        _erase_never_joined,
    ),
)


def all_retention_rules() -> tuple[RetentionRule, ...]:
    """The platform's clean-ups, those other apps registered (cer.privacy.contributions),
    then the anonymisation of people no longer needed."""
    return (*_CLEAN_UPS, *retention_rules(), *_ERASURES)


def apply_retention(*, now: dt.datetime) -> dict[str, int]:
    """Apply every retention rule at `now`; return how many records each rule touched."""
    outcome = {rule.code: rule.apply(now) for rule in all_retention_rules()}
    logger.info("privacy.retention.applied %s", outcome)
    return outcome


# --- register of processing activities ------------------------------------------------------

ACTIVITY_FIELDS = [
    "code",
    "name",
    "purpose",
    "legal_basis",
    "data_subjects",
    "data_categories",
    "recipients",
    "transfers",
    "retention",
    "security",
]
_SECURITY = _(
    "Role-based access per community; TLS; Argon2 passwords, optional second factor; "
    "IBAN encrypted at rest; append-only audit log; encrypted off-site backups."
)
_ACTIVITIES = [
    (
        "membership",
        _("Membership register"),
        _("Admitting members, keeping the register, running meetings."),
        _("Contract (GDPR art. 6.1.b)"),
        _("Members and their legal representatives"),
        _("Identity, tax code, contact data, role, membership dates"),
        _("Community bodies; accountants bound by confidentiality"),
        _("None outside the EU"),
        _("Membership plus 10 years"),
    ),
    (
        "energy_sharing",
        _("Energy sharing and incentives"),
        _("Metering energy, computing shared energy and distributing incentives."),
        _("Contract (art. 6.1.b); legal duty towards GSE (art. 6.1.c)"),
        _("Members, plant owners"),
        _("POD codes, plant data, hourly energy readings, IBAN"),
        _("GSE, grid operator, paying bank"),
        _("None outside the EU"),
        _("Membership plus 10 years (accounting)"),
    ),
    (
        "metering_detail",
        _("Detailed metering from members' devices"),
        _("Hourly readings from the member's own meters for their dashboard."),
        _("Consent (art. 6.1.a), withdrawable"),
        _("Members who install a device"),
        _("Device identifiers, hourly energy"),
        _("None"),
        _("None outside the EU"),
        _("Until consent is withdrawn or membership ends, then as settlement data"),
    ),
    (
        "communications",
        _("News and invitations"),
        _("Informing members about the community."),
        _("Consent (art. 6.1.a), withdrawable"),
        _("Members"),
        _("Name, email"),
        _("Email provider"),
        _("None outside the EU"),
        _("Until consent is withdrawn"),
    ),
    (
        "security",
        _("Security and accountability"),
        _("Protecting accounts and keeping track of changes to records."),
        _("Legitimate interest and legal duty (art. 6.1.c, 6.1.f; art. 32)"),
        _("Users of the platform"),
        _("Username, IP address of failed logins, audit trail of changes"),
        _("None"),
        _("None outside the EU"),
        _(
            "Failed logins 30 days; audit trail 10 years, with a person's names, emails "
            "and addresses replaced when they are erased"
        ),
    ),
    (
        "accounting_after_erasure",
        _("Records kept after an erasure"),
        _(
            "Keeping, after a member's data are erased, the amounts settled and paid and "
            "the membership history that justify them."
        ),
        _(
            "Legal obligation (GDPR art. 6.1.c and 17.3.b): accounting records and their "
            "supporting documents, art. 2220 codice civile (10 years); tax records, art. 22 "
            "DPR 600/1973"
        ),
        _("Former members"),
        _(
            "Pseudonymous member number, memberships (community, role, dates), POD codes, "
            "hourly readings, statements, invoices and payments with their own copy of the "
            "parties' data"
        ),
        _("Tax authority and GSE on request; accountants bound by confidentiality"),
        _("None outside the EU"),
        _("10 years after the last membership ended, then anonymised or deleted"),
    ),
]


def processing_register(*, community: Community, now: dt.datetime) -> dict[str, Any]:
    """Return the community's register of processing activities (GDPR art. 30.1)."""
    activities = [
        {
            **dict(zip(ACTIVITY_FIELDS[:-1], [str(value) for value in row], strict=True)),
            "security": str(_SECURITY),
        }
        for row in _ACTIVITIES
    ]
    return {
        "controller": {
            "name": community.name,
            "fiscal_code": community.fiscal_code,
            "seat_address": community.seat_address,
            "pec": community.pec,
        },
        "generated_at": now,
        "activities": activities,
    }


def processing_register_csv(*, register: dict[str, Any]) -> str:
    """Render the register as CSV: one row per activity, the controller in each row."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["controller", "controller_fiscal_code", *ACTIVITY_FIELDS])
    controller = register["controller"]
    for activity in register["activities"]:
        writer.writerow(
            [controller["name"], controller["fiscal_code"], *(activity[f] for f in ACTIVITY_FIELDS)]
        )
    return buffer.getvalue()
