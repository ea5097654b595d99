"""The members app's scheduled work (cer/core/periodic.py): reminders of invitations about
to expire unused, looked for every hour and told once each."""

from __future__ import annotations

import datetime as dt

from cer.core import periodic
from cer.members.notices import remind_expiring_invitations


def _remind(now: dt.datetime) -> int:
    return remind_expiring_invitations(now)


periodic.register("members.invitations_expiring", dt.timedelta(hours=1), _remind)
