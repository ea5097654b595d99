"""Reading a list page's filters from its query string, for the managers' record lists.

Every value is checked against its choices: an unknown one falls back to the default, so
a hand-edited address shows the whole list rather than an error or another community's
rows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

SEARCH_MAX_CHARS = 100


def choice(query: Mapping[str, str], name: str, allowed: Collection[str], default: str = "") -> str:
    """Return the query's `name` if it is one of `allowed`, else `default`."""
    value = query.get(name, default)
    return value if value in allowed else default


def search_text(query: Mapping[str, str]) -> str:
    """Return the search box's text, trimmed and bounded."""
    return query.get("q", "").strip()[:SEARCH_MAX_CHARS]


def configuration_id(query: Mapping[str, str], configurations: Any) -> int | None:
    """Return the asked configuration's id when it is one of `configurations` (a queryset)."""
    raw = query.get("configuration", "")
    if raw.isdigit() and configurations.filter(pk=int(raw)).exists():
        return int(raw)
    return None
