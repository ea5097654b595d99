"""Behaviour shared by the project's admin pages."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.admin.options import IncorrectLookupParameters

from cer.core.converters import is_sane_year


class SaneDateHierarchy:
    """Refuse a date-hierarchy year outside 2000-2100 like any other bad lookup.

    Django's changelist computes the end of the chosen year as year + 1, so ?…__year=9999
    raises instead of answering; a refused lookup sends the user back to the unfiltered
    list with the usual "?e=1" notice.
    """

    date_hierarchy: ClassVar[str | None]

    def get_changelist_instance(self, request: Any) -> Any:
        if self.date_hierarchy:
            raw = request.GET.get(f"{self.date_hierarchy}__year")
            if raw is not None and not (raw.isdigit() and is_sane_year(int(raw))):
                raise IncorrectLookupParameters(raw)
        return super().get_changelist_instance(request)  # type: ignore[misc]
