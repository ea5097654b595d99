"""The unread count in the header of every page, counted only when a page shows it."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from cer.notifications.services import unread_count


class UnreadNotifications:
    """The user's unread count, read from the database the first time a template asks."""

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        return unread_count(self._user)


def unread(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread": UnreadNotifications(user)}
