"""The settlement's scheduled work: free the months held by jobs nobody runs (jobs.recover)."""

from __future__ import annotations

import datetime as dt

from cer.core import periodic
from cer.settlement.jobs import recover


def _recover(now: dt.datetime) -> str:
    outcome = {key: value for key, value in recover(now=now).items() if value}
    return ", ".join(f"{key} {value}" for key, value in outcome.items())


periodic.register("settlement.recover_jobs", dt.timedelta(minutes=5), _recover)
