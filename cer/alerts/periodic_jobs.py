"""The alerts' scheduled work: every rule evaluated every 15 minutes (cer.core.periodic)."""

from __future__ import annotations

import datetime as dt

from cer.alerts.services import evaluate
from cer.core import periodic


def _evaluate(now: dt.datetime) -> str:
    outcome = evaluate(now)
    return str(outcome) if outcome.opened or outcome.closed else ""


periodic.register("alerts.evaluate", dt.timedelta(minutes=15), _evaluate)
