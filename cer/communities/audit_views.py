"""The audit log of a community, for its managers: who changed what, newest first.

The page shows a community, so it lives with the community; the audit app below it only
records and labels entries."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from cer.audit.labels import action_label
from cer.audit.models import AuditEntry
from cer.communities.models import Community
from cer.core import formatting
from cer.core.access import object_permission

PAGE_SIZE = 50


@object_permission("audit.view_entries", Community)
@require_safe
def community_log(request: HttpRequest, community: Community) -> HttpResponse:
    """The entries recorded for the community; `?code=` keeps those whose action starts so."""
    entries = AuditEntry.objects.filter(community=community).order_by("-at", "-pk")
    code = request.GET.get("code", "").strip()[:80]
    if code:
        entries = entries.filter(code__startswith=code)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"entry": entry, "action": action_label(entry.code), "changes": describe(entry.changes)}
        for entry in page
    ]
    context = {"community": community, "page": page, "rows": rows, "code": code}
    return render(request, "audit/community_log.html", context)


def describe(changes: Any) -> list[str]:
    """Render `{field: [old, new]}` as `field: old → new`; any other detail as JSON."""
    if not isinstance(changes, dict):
        return [json.dumps(changes, ensure_ascii=False)] if changes else []
    lines = []
    for name, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            old, new = (_text(part) for part in value)
            lines.append(f"{name}: {old or '—'} → {new or '—'}")
        else:
            lines.append(f"{name}: {_text(value)}")
    return lines


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL = re.compile(r"-?\d+\.\d+")


def _text(value: Any) -> str:
    """One recorded value for a reader: dates in words and numbers with the reader's
    separators ("1 giugno 2024", "274,8"), codes and names as recorded."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else json.dumps(value)
    if isinstance(value, int):
        return formatting.number(value)
    if isinstance(value, str):
        if _ISO_DATE.fullmatch(value):
            try:
                return formatting.day(dt.date.fromisoformat(value))
            except ValueError:
                return value
        if _DECIMAL.fullmatch(value):
            # Every recorded decimal kept, trailing zeros dropped: "274.800000000000" -> "274,8".
            places = len(value.partition(".")[2])
            return formatting.number(Decimal(value), places, trim=True)
        return value
    return json.dumps(value, ensure_ascii=False)
