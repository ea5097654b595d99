"""The member list of a community for its managers: search, filters, sorting, export.

A row is a membership (a person's period in the community, with its role): a person who
left and came back has two rows, each with its dates. Tax codes and VAT numbers are
encrypted at rest, so a search matches them exactly through their blind index, while
names and e-mails match any part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Concat, Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cer.communities.models import Community
from cer.core import formatting, list_filters
from cer.members.models import (
    MemberCategory,
    Membership,
    MembershipRole,
    PersonKind,
    identifier_index,
)

PAGE_SIZE = 25

STATUS_CHOICES = (
    ("active", gettext_lazy("Members today")),
    ("future", gettext_lazy("Joining later")),
    ("ended", gettext_lazy("Left")),
    ("all", gettext_lazy("All")),
)
SORTS = {
    "name": ("sort_name", "pk"),
    "-name": ("-sort_name", "-pk"),
    "since": ("valid_from", "pk"),
    "-since": ("-valid_from", "-pk"),
    "category": ("member__category", "sort_name", "pk"),
    "role": ("role", "sort_name", "pk"),
}
SORT_CHOICES = (
    ("name", gettext_lazy("Name A–Z")),
    ("-name", gettext_lazy("Name Z–A")),
    ("since", gettext_lazy("Oldest first")),
    ("-since", gettext_lazy("Newest first")),
    ("category", gettext_lazy("Category")),
    ("role", gettext_lazy("Role")),
)


@dataclass(frozen=True)
class MemberFilters:
    """What the manager asked for; unknown values fall back to the defaults."""

    q: str = ""
    category: str = ""
    role: str = ""
    status: str = "active"
    configuration: int | None = None
    sort: str = "name"

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, community: Community) -> MemberFilters:
        """Read the filters from a query string, dropping values that are not choices."""
        return cls(
            q=list_filters.search_text(query),
            category=list_filters.choice(query, "category", MemberCategory.values),
            role=list_filters.choice(query, "role", MembershipRole.values),
            status=list_filters.choice(query, "status", dict(STATUS_CHOICES), "active"),
            configuration=list_filters.configuration_id(query, community.configurations),
            sort=list_filters.choice(query, "sort", SORTS, "name"),
        )


def member_rows(
    *, community: Community, filters: MemberFilters, today: dt.date
) -> QuerySet[Membership]:
    """Return the community's memberships that match `filters`, in the asked order."""
    rows = Membership.objects.filter(community=community).select_related(
        "member", "member__municipality"
    )
    if filters.status == "active":
        rows = rows.active_on(today)
    elif filters.status == "future":
        rows = rows.filter(valid_from__gt=today)
    elif filters.status == "ended":
        rows = rows.filter(valid_to__lte=today)
    if filters.category:
        rows = rows.filter(member__category=filters.category)
    if filters.role:
        rows = rows.filter(role=filters.role)
    if filters.configuration is not None:
        rows = rows.filter(member__connection_points__configuration_id=filters.configuration)
    if filters.q:
        rows = rows.filter(_search(filters.q))
    # A company sorts by its name, a person by surname then first name, in any case.
    sort_name = Lower(
        Case(
            When(member__kind=PersonKind.LEGAL, then=F("member__company_name")),
            default=Concat("member__last_name", Value(" "), "member__first_name"),
        )
    )
    return rows.distinct().annotate(sort_name=sort_name).order_by(*SORTS[filters.sort])


def _search(text: str) -> Q:
    words = Q()
    for word in text.split():
        words &= (
            Q(member__first_name__icontains=word)
            | Q(member__last_name__icontains=word)
            | Q(member__company_name__icontains=word)
            | Q(member__email__icontains=word)
        )
    # Encrypted identifiers: the whole text, exactly (any case and spacing).
    code = Q(member__fiscal_code_index=identifier_index("fiscal_code", text))
    vat = identifier_index("vat_number", text)
    if vat:
        code |= Q(member__vat_number_index=vat)
    return words | code


def export_header() -> list[str]:
    return [
        _("Member"),
        _("Tax code"),
        _("VAT number"),
        _("Email"),
        _("Phone"),
        _("Category"),
        _("Role"),
        _("Participation"),
        _("Member from"),
        _("Member until"),
        _("Municipality"),
        _("POD codes"),
    ]


def export_rows(rows: QuerySet[Membership], *, for_people: bool) -> list[list[object]]:
    """Return one list of cells per membership; dates in words when `for_people` (CSV)."""
    memberships = list(rows.prefetch_related("member__connection_points__configuration"))
    table: list[list[object]] = []
    for membership in memberships:
        member = membership.member
        # Only this community's points: another community's are not its managers' business.
        pods = sorted(
            point.pod
            for point in member.connection_points.all()
            if point.configuration.community_id == membership.community_id
        )
        table.append(
            [
                member.display_name,
                member.fiscal_code,
                member.vat_number,
                member.email,
                member.phone,
                member.get_category_display(),
                membership.get_role_display(),
                membership.get_kind_display(),
                _date(membership.valid_from, for_people),
                _date(membership.valid_to, for_people),
                member.municipality.name,
                ", ".join(pods),
            ]
        )
    return table


def _date(value: dt.date | None, for_people: bool) -> object:
    if value is None:
        return ""
    return formatting.day(value) if for_people else value
