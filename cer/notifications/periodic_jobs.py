"""The notification centre's scheduled work: send what is due, run the checks that notify."""

from __future__ import annotations

import datetime as dt

from cer.core import periodic
from cer.notifications.delivery import deliver_due
from cer.notifications.hooks import run_periodic_checks


def _deliver(now: dt.datetime) -> str:
    report = deliver_due(now)
    if not (report.sent or report.failed or report.permanent):
        return ""
    return f"sent {report.sent}, retrying {report.failed}, failed for good {report.permanent}"


def _checks(now: dt.datetime) -> str:
    counts = run_periodic_checks(now)
    return ", ".join(f"{code}: {count}" for code, count in counts.items() if count)


periodic.register("notifications.deliver", dt.timedelta(seconds=30), _deliver)
periodic.register("notifications.checks", dt.timedelta(hours=1), _checks)
