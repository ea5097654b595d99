"""Steps shared by the plant and dashboard browser tests: logging in, running axe-core."""

from __future__ import annotations

from tests.e2e.accessibility import serious_violations

PASSWORD = "prova-password-2025"


def serious_accessibility_violations(page) -> list[str]:
    """Run axe-core on the page; return the serious and critical WCAG 2.1 AA violations."""
    return serious_violations(page)
