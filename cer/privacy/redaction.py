"""Erasing a person's traces outside their member record: invitations, applications, audit log.

The member row is anonymised by `cer.privacy.gdpr.erase_member`; the person's name,
e-mail and addresses were also copied elsewhere: into the invitations sent to them,
the connection points declared in their application, and the audit log (the object's
name, the changed values, the actor's name). This module gathers those values before
the member row is anonymised and replaces them afterwards.

The audit log is append-only (`AuditEntry.save` refuses updates). Erasure is its one
documented exception (GDPR art. 17 prevails over keeping the values): a queryset
`update()` replaces the personal values by REDACTED, keeping each entry's time, action,
object type and id, and a new entry records how many entries were redacted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from cer.audit.models import AuditEntry
from cer.audit.services import record
from cer.members.models import Invitation, Member, Membership, MembershipApplication
from cer.plants.models import ConnectionPoint

REDACTED = "[cancellato]"
# Keys whose values describe the person when an entry is about one of their records.
PERSONAL_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "company_name",
        "email",
        "pec",
        "phone",
        "address",
        "fiscal_code",
        "vat_number",
        "iban",
        "username",
        "member_name",
    }
)
# Values searched in the whole log are at least this long; shorter ones (a first name
# alone) are replaced only inside the person's own entries, where they cannot hit
# other people's words.
_MIN_SEARCHED = 5
_MIN_OWN = 2
# Object types whose text form names the person (member, account, invitation e-mail).
_NAMING_TYPES = frozenset(
    {
        "members.member",
        "members.membership",
        "members.invitation",
        "members.membershipapplication",
        "auth.user",
    }
)


@dataclass
class Traces:
    """What to look for and where, gathered before the member row is anonymised."""

    member_id: int
    user_id: int | None
    username: str
    # Values searched in every audit entry; the weak ones only in the person's own.
    strong: set[str] = field(default_factory=set)
    weak: set[str] = field(default_factory=set)
    # (target_type, target_id) of the person's records.
    targets: set[tuple[str, str]] = field(default_factory=set)
    invitation_ids: list[int] = field(default_factory=list)
    application_ids: list[int] = field(default_factory=list)


def gather_traces(*, member: Member) -> Traces:
    """Collect the person's values and records; call it before anonymising `member`."""
    user = member.user
    traces = Traces(
        member_id=member.pk,
        user_id=user.pk if user is not None else None,
        username=user.get_username() if user is not None else "",
    )
    traces.targets.add(("members.member", str(member.pk)))
    applications = MembershipApplication.objects.filter(member=member)
    emails = {member.email, member.pec}
    if user is not None:
        traces.targets.add(("auth.user", str(user.pk)))
        applications = MembershipApplication.objects.filter(Q(member=member) | Q(user=user))
        emails |= {user.email}
        traces.weak |= {user.first_name, user.last_name, user.get_username()}
        traces.strong |= {f"{user.first_name} {user.last_name}"}
    emails = {email for email in emails if email}
    by_email = Q()
    for email in emails:
        by_email |= Q(email__iexact=email)
    invitations = Invitation.objects.filter(
        Q(pk__in=applications.values("invitation_id")) | (by_email if emails else Q(pk__in=[]))
    )
    traces.application_ids = list(applications.values_list("pk", flat=True))
    traces.invitation_ids = list(invitations.values_list("pk", flat=True))
    traces.strong |= emails | set(invitations.values_list("email", flat=True))
    traces.strong |= {
        member.company_name,
        member.address,
        member.phone,
        member.fiscal_code,
        member.vat_number,
        f"{member.first_name} {member.last_name}",
        f"{member.last_name} {member.first_name}",
    }
    traces.weak |= {member.first_name, member.last_name}
    points = ConnectionPoint.objects.filter(holder=member)
    traces.strong |= set(points.values_list("address", flat=True))
    for declared in applications.values_list("declared_points", flat=True):
        traces.strong |= {str(p.get("address", "")) for p in declared or [] if isinstance(p, dict)}
    traces.targets |= {("members.invitation", str(pk)) for pk in traces.invitation_ids}
    traces.targets |= {("members.membershipapplication", str(pk)) for pk in traces.application_ids}
    traces.targets |= {
        ("members.membership", str(pk))
        for pk in Membership.objects.filter(member=member).values_list("pk", flat=True)
    }
    traces.targets |= {
        ("plants.connectionpoint", str(pk)) for pk in points.values_list("pk", flat=True)
    }
    # Values the person had before (an old address, a previous e-mail) live only in the
    # changes recorded on their own records.
    for changes in AuditEntry.objects.filter(_own(traces)).values_list("changes", flat=True):
        traces.strong |= set(_personal_values(changes))
    traces.strong = {v.strip() for v in traces.strong if len(v.strip()) >= _MIN_SEARCHED}
    traces.weak = {v.strip() for v in traces.weak if len(v.strip()) >= _MIN_OWN}
    return traces


def _own(traces: Traces) -> Q:
    """Entries about one of the person's records."""
    query = Q(pk__in=[])
    for target_type, target_id in traces.targets:
        query |= Q(target_type=target_type, target_id=target_id)
    return query


def _personal_values(changes: Any, *, personal: bool = False) -> Iterable[str]:
    """Yield the strings held under PERSONAL_KEYS anywhere in `changes`."""
    if isinstance(changes, dict):
        for key, value in changes.items():
            yield from _personal_values(value, personal=personal or key in PERSONAL_KEYS)
    elif isinstance(changes, list):
        for value in changes:
            yield from _personal_values(value, personal=personal)
    elif personal and isinstance(changes, str) and not changes.startswith("["):
        yield changes


def erase_traces(*, traces: Traces, actor: Any, now: dt.datetime, target: Any) -> dict[str, int]:
    """Replace the person's values in invitations, applications and the audit log.

    Pending invitations to the person expire now. Returns how many rows of each kind
    were changed; the audit log count is recorded as `privacy.erasure.redacted_audit`.
    """
    invitations = Invitation.objects.filter(pk__in=traces.invitation_ids)
    for invitation in invitations.only("pk", "expires_at"):
        Invitation.objects.filter(pk=invitation.pk).update(
            email=f"erased-{invitation.pk}@invalid.invalid",
            expires_at=min(invitation.expires_at, now),
        )
    applications = MembershipApplication.objects.filter(pk__in=traces.application_ids)
    for application in applications.only("pk", "declared_points"):
        MembershipApplication.objects.filter(pk=application.pk).update(
            declared_points=_redact_keys(application.declared_points)
        )
    redacted = _redact_audit(traces)
    if getattr(actor, "pk", None) is not None and actor.pk == traces.user_id:
        # The person erasing themselves: the request's copy still has the old username.
        actor.refresh_from_db(fields=["username"])
    record(
        actor=actor,
        code="privacy.erasure.redacted_audit",
        now=now,
        target=target,
        changes={"entries": redacted},
    )
    return {
        "invitations": len(traces.invitation_ids),
        "applications": len(traces.application_ids),
        "audit_entries": redacted,
    }


def _redact_audit(traces: Traces) -> int:
    strong = _pattern(traces.strong)
    every = _pattern(traces.strong | traces.weak)
    candidates = AuditEntry.objects.annotate(changes_text=Cast("changes", TextField())).filter(
        _candidates(traces)
    )
    count = 0
    for entry in candidates.iterator():
        own = (entry.target_type, entry.target_id) in traces.targets
        acted = (traces.user_id is not None and entry.actor_id == traces.user_id) or (
            bool(traces.username) and entry.actor_name == traces.username
        )
        # What the person did is mostly about themselves (consents, their application):
        # their first name or username alone is theirs there too.
        needles = every if own or acted else strong
        changes = _redact_keys(entry.changes) if own else entry.changes
        changes = _replace(changes, needles)
        target_repr = (
            REDACTED
            if own and entry.target_type in _NAMING_TYPES
            else _replace(entry.target_repr, needles)
        )
        actor_name = REDACTED if acted else _replace(entry.actor_name, strong)
        if (changes, target_repr, actor_name) == (
            entry.changes,
            entry.target_repr,
            entry.actor_name,
        ):
            continue
        # The one sanctioned change to the append-only log (module docstring).
        AuditEntry.objects.filter(pk=entry.pk).update(
            changes=changes, target_repr=target_repr, actor_name=actor_name
        )
        count += 1
    return count


def _candidates(traces: Traces) -> Q:
    """Entries about the person's records, made by them, or holding one of their values."""
    query = _own(traces)
    if traces.user_id is not None:
        query |= Q(actor_id=traces.user_id)
    if traces.username:
        query |= Q(actor_name=traces.username)
    for needle in traces.strong:
        # JSON text may escape non-ASCII letters and quotes: look for both spellings.
        escaped = json.dumps(needle)[1:-1]
        query |= Q(target_repr__icontains=needle) | Q(actor_name__icontains=needle)
        query |= Q(changes_text__icontains=needle) | Q(changes_text__icontains=escaped)
    return query


def _redact_keys(value: Any, *, personal: bool = False) -> Any:
    """Return `value` with every non-empty leaf under PERSONAL_KEYS replaced by REDACTED."""
    if isinstance(value, dict):
        return {
            key: _redact_keys(item, personal=personal or key in PERSONAL_KEYS)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_keys(item, personal=personal) for item in value]
    if personal and value not in (None, ""):
        return REDACTED
    return value


def _pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    """Match any needle as a whole, in any case, the longest first."""
    ordered = sorted(needles, key=len, reverse=True)
    if not ordered:
        return None
    # Whole words only: "Via Roma 1" must not eat into someone else's "Via Roma 12".
    return re.compile(
        "|".join(rf"(?<!\w){re.escape(needle)}(?!\w)" for needle in ordered), re.IGNORECASE
    )


def _replace(value: Any, pattern: re.Pattern[str] | None) -> Any:
    """Return `value` with every match of `pattern` replaced by REDACTED in every string."""
    if pattern is None:
        return value
    if isinstance(value, dict):
        return {key: _replace(item, pattern) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, pattern) for item in value]
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    return value
