"""Who may see and do what with collections (django-rules).

Managers (referente, administrator) and staff handle their community's requests, mandates,
batches and reports; a member sees their own requests and mandates.
"""

from __future__ import annotations

from typing import Any

import rules

from cer.access.rules import is_manager_of, is_staff_or_superuser


@rules.predicate
def is_own(user: Any, obj: Any) -> bool:
    """True when the request or mandate is the user's member record's."""
    member = getattr(obj, "member", None)
    return bool(user.is_authenticated and member is not None and member.user_id == user.pk)


rules.add_perm("collections.manage", is_staff_or_superuser | is_manager_of)
rules.add_perm("collections.view", is_staff_or_superuser | is_manager_of | is_own)
