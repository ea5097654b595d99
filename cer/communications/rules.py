"""Who may see and answer a communication (django-rules, beside cer/access/rules.py).

A communication and its copies belong to the community that sent them
(`community_of` follows `communication.community`): its managers see them all; a member
sees and answers only their own copy.
"""

from __future__ import annotations

from typing import Any

import rules

from cer.access.rules import is_manager_of, is_staff_or_superuser


@rules.predicate
def is_the_recipient(user: Any, copy: Any) -> bool:
    """True when `copy` (a CommunicationRecipient) was sent to the user's member."""
    return bool(
        user.is_authenticated
        and copy is not None
        and getattr(copy.member, "user_id", None) == user.pk
    )


rules.add_perm("communications.manage_communication", is_staff_or_superuser | is_manager_of)
rules.add_perm(
    "communications.view_message", is_staff_or_superuser | is_manager_of | is_the_recipient
)
rules.add_perm("communications.reply_message", is_the_recipient)
