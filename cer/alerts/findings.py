"""What a rule returns (findings) and what it is given (the scope of one evaluation)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cer.alerts.models import AlertSettings
from cercalc import periods
from cercalc.periods import ROME, Period


@dataclass(frozen=True)
class Finding:
    """One condition a rule sees now: the object it is about, its figures and a link.

    `figures` holds plain JSON values (Wh as integers, decimals and dates as strings): the
    explanation is written from them in the reader's language (cer.alerts.explain).
    """

    community_id: int
    rule: str
    object_kind: str
    object_id: int
    label: str
    figures: dict[str, Any] = field(default_factory=dict)
    link: str = ""

    @property
    def key(self) -> tuple[int, str, str, int]:
        return (self.community_id, self.rule, self.object_kind, self.object_id)


@dataclass(frozen=True)
class Scope:
    """One evaluation: the moment, and each evaluated community's settings."""

    now: dt.datetime
    settings: dict[int, AlertSettings]
    # What several rules read, computed once per evaluation (cer.alerts.daily).
    cache: dict[str, Any] = field(default_factory=dict, compare=False)

    def communities_with(self, rule: str) -> list[int]:
        """The communities that watch `rule`."""
        return [pk for pk, values in self.settings.items() if rule in values.enabled_rules]

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(ROME).date()

    @property
    def yesterday(self) -> Period:
        """The last whole Europe/Rome day before `now` (23, 24 or 25 hours)."""
        return periods.day(self.today - dt.timedelta(days=1))
