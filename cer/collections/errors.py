"""The one exception every collections service raises: a message and the field at fault."""

from __future__ import annotations


class CollectionError(Exception):
    """A step that cannot be taken; the message says why, `field` names the input at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
