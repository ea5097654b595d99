"""Who may see and act on a signature request (django-rules, beside cer/access/rules.py).

A request belongs to its community (`community_of` follows `request.community`, a signer's
and a signed file's `community`): its managers see and run it; each signer sees the
request and acts only on their own line.
"""

from __future__ import annotations

from typing import Any

import rules

from cer.access.rules import is_manager_of, is_staff_or_superuser


@rules.predicate
def is_the_signer(user: Any, signer: Any) -> bool:
    """True when `signer` (a Signer) is the user's own line."""
    return bool(user.is_authenticated and signer is not None and signer.user_id == user.pk)


@rules.predicate
def is_a_signer_of(user: Any, request: Any) -> bool:
    """True when the user is one of the request's signers."""
    return bool(
        user.is_authenticated
        and request is not None
        and request.signers.filter(user_id=user.pk).exists()
    )


rules.add_perm("signing.manage_request", is_staff_or_superuser | is_manager_of)
rules.add_perm("signing.view_request", is_staff_or_superuser | is_manager_of | is_a_signer_of)
rules.add_perm("signing.sign", is_the_signer)
rules.add_perm("signing.view_signer", is_staff_or_superuser | is_manager_of | is_the_signer)
