"""Scheduled work of the signature workflow: reminders to the people who have not signed."""

from __future__ import annotations

import datetime as dt

from cer.core import periodic
from cer.signing.notices import remind_due

periodic.register("signing.reminders", dt.timedelta(hours=6), remind_due)
