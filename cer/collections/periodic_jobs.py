"""The collections app's scheduled work (cer/core/periodic.py): every hour, ask pagoPA
where each published notice stands and mark the paid ones paid. Nothing to ask, nothing
asked: without a pagoPA notice the job sends no request."""

from __future__ import annotations

import datetime as dt

from cer.collections.models import NoticeStatus, PagoPANotice
from cer.core import periodic


def _refresh(now: dt.datetime) -> int:
    if not PagoPANotice.objects.filter(status=NoticeStatus.PUBLISHED).exists():
        return 0
    from cer.collections.pagopa.services import refresh_notices

    return refresh_notices(now=now)


periodic.register("collections.pagopa_refresh", dt.timedelta(hours=1), _refresh)
