"""Who may see and keep the community's accounts (django-rules): its managers and the staff."""

from __future__ import annotations

import rules

from cer.access.rules import is_manager_of, is_staff_or_superuser

rules.add_perm("treasury.manage_accounts", is_staff_or_superuser | is_manager_of)
