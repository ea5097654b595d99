"""Whether a tax code or a POD is still free, answered without revealing other communities.

Tax codes and PODs are unique on the whole platform, so a form that refuses a taken one
would tell whoever types it that the person or the point exists somewhere. These checks say
"already registered" plainly only when the user may see the holder (a member or point of a
community they manage, their own record); anywhere else the answer is one neutral sentence,
the same for every reason a code cannot be used. Platform staff see every holder: they find
the conflict in the admin, where members are searchable by tax code and points by POD.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cer.communities.models import Community
from cer.members.models import Member, Membership
from cer.plants.models import ConnectionPoint

UNUSABLE = _("This code cannot be used: contact the platform.")
TAX_CODE_HERE = _("A member of this community already has this tax code.")
TAX_CODE_SEEN = _("A person with this tax code is already registered in one of your communities.")
POD_HERE = _("This POD is already registered in this community.")
POD_SEEN = _("This POD is already registered in one of your communities.")
COMMUNITY_CODE_SEEN = _("A community you can see already has this tax code.")


def _unusable() -> ValidationError:
    # The same code as a plain conflict: nothing, not even the code, tells the cases apart.
    return ValidationError(UNUSABLE, code="registered")


def tax_code_problem(
    code: str, *, user: Any, community: Community | None = None, exclude_pk: int | None = None
) -> ValidationError | None:
    """Return why `code` cannot be a new member's tax code, or None when it is free.

    `community` is where the member is being registered (None in the constitution wizard);
    `exclude_pk` is the member being edited.
    """
    taken = Member.objects.with_fiscal_code(code)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    holder = taken.first()
    if holder is None:
        return None
    if not user.has_perm("members.view_member_details", holder):
        return _unusable()
    if (
        community is not None
        and Membership.objects.filter(member=holder, community=community).exists()
    ):
        return ValidationError(TAX_CODE_HERE, code="registered")
    return ValidationError(TAX_CODE_SEEN, code="registered")


def pod_problem(
    pod: str, *, user: Any, community: Community | None = None, exclude_pk: int | None = None
) -> ValidationError | None:
    """Return why `pod` cannot be registered as a new connection point, or None when free."""
    taken = ConnectionPoint.objects.filter(pod=pod).select_related("configuration", "holder")
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    point = taken.first()
    if point is None:
        return None
    if not user.has_perm("plants.view_connection_point", point):
        return _unusable()
    if community is not None and point.configuration.community_id == community.pk:
        return ValidationError(POD_HERE, code="registered")
    return ValidationError(POD_SEEN, code="registered")


def community_code_problem(
    code: str, *, user: Any, exclude_pk: int | None = None
) -> ValidationError | None:
    """Return why `code` cannot be a new community's tax code, or None when it is free."""
    taken = Community.objects.filter(fiscal_code=code)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    existing = taken.first()
    if existing is None:
        return None
    if not user.has_perm("communities.view_community", existing):
        return _unusable()
    return ValidationError(COMMUNITY_CODE_SEEN, code="registered")
