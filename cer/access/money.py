"""Who may see which settlement runs and statements, as querysets: the twins of
settlement.view_run and settlement.view_statement.

They sit with the other twins (cer/access/visibility.py) but on the money floor, since
they read the settlement and billing models (cer/layers.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from cer.access.rules import is_staff_or_superuser
from cer.access.visibility import managed_by
from cer.billing.models import Statement
from cer.settlement.models import SettlementRun


def settlement_runs(user: Any, *, today: dt.date) -> QuerySet[SettlementRun]:
    """settlement.view_run: the community's managers only, as in the web app."""
    if not user.is_authenticated:
        return SettlementRun.objects.none()
    if is_staff_or_superuser(user):
        return SettlementRun.objects.all()
    return SettlementRun.objects.filter(configuration__community_id__in=managed_by(user, today))


def statements(user: Any, *, today: dt.date) -> QuerySet[Statement]:
    """settlement.view_statement: the member's own statements, the managers' community's."""
    # One rule for the API and the web pages' yearly statement.
    return Statement.objects.visible_to(user, today=today)
