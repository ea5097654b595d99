"""The compliance app's scheduled work (cer/core/periodic.py): reminders of anti-mafia
declarations missing, about to lapse or lapsed, looked for twice a day, each told once."""

from __future__ import annotations

import datetime as dt

from cer.compliance.notices import remind_declarations
from cer.core import periodic


def _remind(now: dt.datetime) -> int:
    return remind_declarations(now)


periodic.register("compliance.antimafia_reminders", dt.timedelta(hours=12), _remind)
