"""A start-up check: SPID or CIE switched on with part of its configuration missing.

Without it the login would stay silently off (its pages answer 404).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

SPID_NEEDS = ("SPID_ENTITY_ID", "SPID_KEY_FILE", "SPID_CERT_FILE", "SPID_IDP_METADATA_FILES")
CIE_NEEDS = ("CIE_ISSUER", "CIE_CLIENT_ID", "CIE_CLIENT_KEY_FILE")
FILES = ("SPID_KEY_FILE", "SPID_CERT_FILE", "CIE_CLIENT_KEY_FILE")


@checks.register(checks.Tags.security)
def eid_configuration(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    problems: list[str] = []
    for switch, needs, level in (
        ("SPID_ENABLED", SPID_NEEDS, "SPID_LEVEL"),
        ("CIE_ENABLED", CIE_NEEDS, "CIE_LEVEL"),
    ):
        if not getattr(settings, switch, False):
            continue
        problems += [f"{name} is not set" for name in needs if not getattr(settings, name, "")]
        for name in FILES:
            path = str(getattr(settings, name, "")) if name in needs else ""
            if path and not Path(path).is_file():
                problems.append(f"{name}: no file at {path}")
        if getattr(settings, level, 2) not in (1, 2, 3):
            problems.append(f"{level} must be 1, 2 or 3")
    if getattr(settings, "SPID_ENABLED", False):
        problems += [
            f"SPID_IDP_METADATA_FILES: no file at {path}"
            for path in settings.SPID_IDP_METADATA_FILES
            if not Path(path).is_file()
        ]
    return [
        checks.Error(
            f"Login with SPID or CIE is on but incomplete: {problem}.",
            hint="See docs/spid-cie.md, Settings.",
            id="cer.E040",
        )
        for problem in problems
    ]
