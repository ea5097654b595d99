"""The one error the compliance workflows raise for input the rules refuse."""

from __future__ import annotations

from collections.abc import Mapping


class ComplianceError(Exception):
    """Input the rules refuse: `errors` maps each field to the sentences that explain why."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(m)}" for field, m in errors.items()))
        self.errors = dict(errors)


def refuse(field: str, message: str) -> ComplianceError:
    return ComplianceError({field: [message]})
