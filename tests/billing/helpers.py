"""A settled and distributed month of the small configuration, for the billing tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cer.distribution.services import distribute_run, set_policy
from cer.settlement.services import compute_month
from tests.settlement.builders import settled_small

NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
JUNE = dt.date(2025, 6, 1)


def distributed_small():
    small = settled_small()
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[{"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True}],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    return small, distribute_run(run=run, actor=None, now=NOW)
