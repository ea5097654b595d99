"""What the settlement app tells the community's managers: a month settled or not, and a
GSE amount that differs from the platform's calculation.

The managers are the community's referenti and administrators (cer.members.notices).
Each notice leaves after the step's commit and never undoes it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from cer.communities.models import Configuration
from cer.core import formatting
from cer.members.notices import Written, after_commit, managers_of
from cer.notifications import links, topics
from cer.notifications.services import notify
from cer.settlement.models import SettlementJob

SETTLEMENT_FINISHED = topics.register(
    topics.Topic(
        code="settlement.run.finished",
        title=_("A month settled"),
        subject=_("{configuration}: {month} settled"),
        body=_(
            "The settlement of {month} for {configuration} is done (version {version}): "
            "shared energy {shared}, incentive {incentive}."
        ),
    )
)
SETTLEMENT_FAILED = topics.register(
    topics.Topic(
        code="settlement.run.failed",
        title=_("A settlement that failed"),
        subject=_("{configuration}: the settlement of {month} failed"),
        body=_("The settlement of {month} for {configuration} did not complete: {error}"),
        urgent=True,
    )
)
GSE_AMOUNT_DIFFERS = topics.register(
    topics.Topic(
        code="settlement.gse.differs",
        title=_("A GSE amount that differs from the calculation"),
        subject=_("{configuration}: GSE certified {certified} for {month}, not {calculated}"),
        body=_(
            "The GSE file {source} certifies {certified} of {what} for {month} of "
            "{configuration}; the platform calculated {calculated}: a difference of "
            "{difference}. Check the readings and parameters of that month."
        ),
        mandatory=True,
    )
)


def job_ended(job: SettlementJob, *, now: dt.datetime) -> None:
    """Tell the managers a settlement job finished (its figures) or failed (its reason)."""
    job_id = job.pk
    after_commit(lambda: _tell_job(job_id, now), what="a settlement job")


def _tell_job(job_id: int, now: dt.datetime) -> None:
    job = SettlementJob.objects.select_related("configuration__community", "run").get(pk=job_id)
    configuration = job.configuration
    community = configuration.community
    context: dict[str, object] = {
        "configuration": configuration.name,
        "month": Written(formatting.month, job.month),
    }
    if job.run is not None:
        run = job.run
        topic = SETTLEMENT_FINISHED
        context |= {
            "version": run.version,
            "shared": Written(formatting.kwh, run.shared_wh),
            "incentive": run.incentive_eur,
        }
        link = links.site_path("settlement:run_detail", run.pk)
    else:
        topic = SETTLEMENT_FAILED
        context["error"] = job.error
        link = links.site_path("settlement:configuration_runs", configuration.pk)
    notify(
        managers_of(community.pk, now),
        topic.code,
        context,
        link=link,
        now=now,
        community=community,
        dedupe_key=f"settlement-job:{job.pk}",
    )


def gse_amount_differs(
    *,
    configuration: Configuration,
    month: dt.date,
    what: object,
    certified_eur: Decimal,
    calculated_eur: Decimal,
    source: str,
    link: str,
    now: dt.datetime,
) -> None:
    """Tell the managers that a GSE-certified amount [EUR] is not the calculated one."""
    community = configuration.community
    name = configuration.name
    after_commit(
        lambda: notify(
            managers_of(community.pk, now),
            GSE_AMOUNT_DIFFERS.code,
            {
                "configuration": name,
                "month": Written(formatting.month, month),
                "what": what,
                "certified": certified_eur,
                "calculated": calculated_eur,
                "difference": certified_eur - calculated_eur,
                "source": source,
            },
            link=link,
            now=now,
            community=community,
            dedupe_key=f"gse-differs:{configuration.pk}:{month:%Y-%m}:{what}:{source}"[:200],
        ),
        what="a GSE import",
    )
