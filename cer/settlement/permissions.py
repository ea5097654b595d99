"""Who may see and do what with settlements, statements, disputes and payouts (django-rules).

Managers (referente, administrator) act on their community's settlements; a member sees their
own statements and disputes; a mediator sees only the disputes they were invited to.
"""

from __future__ import annotations

from typing import Any

import rules

from cer.access.rules import is_manager_of, is_staff_or_superuser


def _member_of(obj: Any) -> Any:
    for path in ("member", "statement", "line"):
        related = getattr(obj, path, None)
        if related is None:
            continue
        if path == "member":
            return related
        return _member_of(related)
    return None


@rules.predicate
def is_own(user: Any, obj: Any) -> bool:
    """True when the statement, line or dispute belongs to the user's member record."""
    member = _member_of(obj)
    return bool(user.is_authenticated and member is not None and member.user_id == user.pk)


@rules.predicate
def is_mediator_of(user: Any, dispute: Any) -> bool:
    """True when the user was invited as the mediator of this dispute."""
    return bool(user.is_authenticated and getattr(dispute, "mediator_id", None) == user.pk)


rules.add_perm("settlement.run_settlement", is_staff_or_superuser | is_manager_of)
rules.add_perm("settlement.view_run", is_staff_or_superuser | is_manager_of)
rules.add_perm("settlement.view_statement", is_staff_or_superuser | is_own | is_manager_of)
rules.add_perm("settlement.contest_line", is_own)
rules.add_perm(
    "settlement.view_dispute", is_staff_or_superuser | is_own | is_manager_of | is_mediator_of
)
rules.add_perm("settlement.answer_dispute", is_staff_or_superuser | is_manager_of | is_mediator_of)
rules.add_perm("settlement.manage_distribution", is_staff_or_superuser | is_manager_of)
rules.add_perm("settlement.view_report", is_staff_or_superuser | is_manager_of)
rules.add_perm("settlement.manage_payouts", is_staff_or_superuser | is_manager_of)
