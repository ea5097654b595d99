"""Former home of the access rules, now in cer/access/rules.py.

Kept only for the modules of settlement and billing that still import from here;
new code imports cer.access.rules. `is_platform_staff` is the old name of
`is_staff_or_superuser` (the back office is not included).
"""

from cer.access.rules import (
    BACK_OFFICE_GROUP,
    MANAGER_ROLES,
    is_manager_of,
)
from cer.access.rules import is_staff_or_superuser as is_platform_staff

__all__ = ["BACK_OFFICE_GROUP", "MANAGER_ROLES", "is_manager_of", "is_platform_staff"]
