"""The privacy app's scheduled work: apply the retention rules once a day."""

from __future__ import annotations

import datetime as dt

from cer.core import periodic
from cer.privacy.gdpr import apply_retention


def _retention(now: dt.datetime) -> str:
    removed = {code: count for code, count in apply_retention(now=now).items() if count}
    return ", ".join(f"{code}: {count}" for code, count in removed.items())


periodic.register("privacy.apply_retention", dt.timedelta(days=1), _retention)
