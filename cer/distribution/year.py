"""A year settled and distributed: each month's distribution beside the next month's settling.

Its own module: it calls both the settlement services and the distribution services, and
the settlement services already import the distribution services (policy_on).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cer.communities.models import Configuration
from cer.distribution.models import Distribution
from cer.distribution.services import distribute_run
from cer.settlement.services import MonthOutcome, follow_year


def settle_and_distribute_year(
    *, configuration: Configuration, year: int, now: dt.datetime, actor: Any = None
) -> list[Distribution]:
    """Settle the twelve months of a year and distribute each, with its statements.

    follow_year reads the year once and stores each month; each stored month is
    distributed (distribute_run) while the next one is computed, in a child process where
    a fork is safe (cer.core.follow), else on a second thread. Returns the twelve
    distributions, January first; raises what compute_month and distribute_run raise.
    """

    def distribute(outcome: MonthOutcome) -> Distribution:
        return distribute_run(run=outcome.run, actor=actor, now=now)

    _, distributions = follow_year(
        configuration=configuration,
        year=year,
        now=now,
        actor=actor,
        then=distribute,
        in_process=True,
    )
    return distributions
