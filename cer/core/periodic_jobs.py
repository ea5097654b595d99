"""The ground floor's periodic job: send again the background tasks whose message was lost.

A request recorded while Redis was down (or whose worker died and whose message Redis
lost on a restart) waits QUEUED, or RUNNING under a dead worker, with nothing in the
queue to run it: every five minutes their tasks are sent again; the record's claim keeps
a task that was not lost after all from doing the work twice (cer/core/background.py).
"""

from __future__ import annotations

import datetime as dt

from cer.core import background, periodic


def _resend(now: dt.datetime) -> str:
    return f"{background.resend_stale(now=now)} task(s) sent again"


periodic.register("core.resend_background_tasks", dt.timedelta(minutes=5), _resend)
