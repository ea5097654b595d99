"""Recording actions in the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from cer.audit.models import AuditEntry


def record(
    *,
    actor: Any,
    code: str,
    now: dt.datetime,
    target: models.Model | None = None,
    community: Any = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry: `code` is dotted (`billing.invoice.issued`), `now` aware.

    `actor` is a user, an AnonymousUser or None (a system job); `changes` maps a
    field name to `[old, new]` or holds any JSON-serialisable detail.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        at=now,
        actor=user,
        actor_name=user.get_username() if user else "",
        community=community,
        code=code,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        changes=changes or {},
    )


def field_changes(before: models.Model, after: models.Model, fields: list[str]) -> dict[str, Any]:
    """Return `{field: [old, new]}` for the fields whose value differs, as strings."""
    return {
        name: [str(getattr(before, name)), str(getattr(after, name))]
        for name in fields
        if getattr(before, name) != getattr(after, name)
    }
