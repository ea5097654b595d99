"""Settlement workflows: settle a month (versions, idempotency), jobs, finalising, the year.

The arithmetic is the engine's (cercalc.settle); this module loads its inputs (inputs.py),
stores its results in bulk and keeps the history: the same inputs give back the same run,
different inputs give a new version that lists what changed, and a final run never changes.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from cer.audit.services import record
from cer.communities.models import Configuration
from cer.distribution.models import MissingDataPolicy
from cer.distribution.services import enterprise_total, other_pots_total, policy_on
from cer.settlement.inputs import Inputs, engine_configuration, load_inputs, month_hours
from cer.settlement.models import (
    ACTIVE_JOB_STATUSES,
    JobStatus,
    RunMember,
    RunPlant,
    RunStatus,
    SettlementHour,
    SettlementJob,
    SettlementRun,
    pack_series,
)
from cercalc import buckets
from cercalc import settle as engine
from cercalc.distribution import consumer_shares_wh
from cercalc.money import round_eur

logger = logging.getLogger(__name__)


class SettlementError(Exception):
    """A month that cannot be settled; the message says why."""


class IncompleteData(SettlementError):
    """Readings or prices are missing and the community refuses provisional settlements."""

    def __init__(self, gaps: list[dict[str, Any]], unpriced_hours: list[str]) -> None:
        points = ", ".join(f"{gap['pod']} ({gap['count']} h)" for gap in gaps[:10])
        super().__init__(
            f"missing readings at {len(gaps)} point(s): {points or '-'}; "
            f"{len(unpriced_hours)} hour(s) without a zonal price"
        )
        self.gaps = gaps
        self.unpriced_hours = unpriced_hours


class RunAlreadyInProgress(SettlementError):
    """Another settlement of the same configuration and month is queued or running."""


class RunAlreadyFinal(SettlementError):
    """The run is final already."""


class NotLatestVersion(SettlementError):
    """Only the latest version of a month can be finalised."""


@dataclass(frozen=True)
class MonthOutcome:
    run: SettlementRun
    created: bool


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def parse_month(text: str) -> dt.date:
    """Parse "YYYY-MM" into the first day of that month. Raises ValueError."""
    year, month = text.split("-")
    return dt.date(int(year), int(month), 1)


def compute_month(
    *, configuration: Configuration, month: dt.date, now: dt.datetime, actor: Any = None
) -> MonthOutcome:
    """Settle a Europe/Rome calendar month and store it, unless the same inputs gave a run.

    Returns the existing latest run when its inputs hash matches (no new version), otherwise
    a new version that records what changed. Sources: the engine (cercalc.settle) for every
    figure; REGULATION.md §10 for the monthly shadow statement.
    Raises IncompleteData (gaps and a policy that refuses them) and SettlementError (inputs
    the engine refuses).
    """
    month = first_of_month(month)
    hours = month_hours(month)
    inputs = load_inputs(configuration=configuration, hours=hours)
    inputs_hash = inputs.inputs_hash()
    with transaction.atomic():
        Configuration.objects.select_for_update().filter(pk=configuration.pk).first()
        latest = (
            SettlementRun.objects.filter(configuration=configuration, month=month)
            .order_by("-version")
            .first()
        )
        if latest is not None and latest.inputs_hash == inputs_hash:
            return MonthOutcome(run=latest, created=False)
        incomplete = bool(inputs.gaps or inputs.unpriced_hours)
        policy = policy_on(configuration.community_id, month)
        if incomplete and policy is not None and policy.missing_data == MissingDataPolicy.REFUSE:
            raise IncompleteData(inputs.gaps, inputs.unpriced_hours)
        result = _settle(inputs)
        run = _store(inputs, result, configuration, month, latest, inputs_hash, now, actor)
        record(
            actor=actor,
            code="settlement.run.computed",
            now=now,
            target=run,
            community=configuration.community,
            changes={"version": run.version, "provisional": run.provisional},
        )
    return MonthOutcome(run=run, created=True)


def _settle(inputs: Inputs) -> engine.SettlementResult:
    if not inputs.points:
        raise SettlementError("no connection point of a member in this period")
    try:
        return engine.settle(
            configuration=engine_configuration(inputs.configuration),
            plants=inputs.engine_plants,
            consumers=inputs.engine_consumers,
            hour_start_utc_s=inputs.hours,
            injected_wh=inputs.plant_injected_wh,
            withdrawn_wh=inputs.withdrawn_wh,
            zonal_price_units=inputs.price_units,
            price_known=inputs.price_known,
            parameters=inputs.parameters,
        )
    except engine.InvalidInput as error:
        raise SettlementError(str(error)) from error


def _store(
    inputs: Inputs,
    result: engine.SettlementResult,
    configuration: Configuration,
    month: dt.date,
    latest: SettlementRun | None,
    inputs_hash: str,
    now: dt.datetime,
    actor: Any,
) -> SettlementRun:
    hours = inputs.hours
    # GSE nets the yearly fees (REGULATION.md §7 [S]); a month carries one twelfth of them.
    fees_year = sum((plant.gse_fee_eur_per_year for plant in result.plants), Decimal(0))
    point_totals = {
        point.pod: [int(inputs.injected_wh[row].sum()), int(inputs.withdrawn_wh[row].sum())]
        for row, point in enumerate(inputs.points)
    }
    run = SettlementRun(
        configuration=configuration,
        month=month,
        version=(latest.version + 1) if latest else 1,
        provisional=bool(inputs.gaps or inputs.unpriced_hours),
        previous=latest,
        inputs_hash=inputs_hash,
        readings_hash=inputs.readings_hash(),
        parameter_versions=inputs.parameter_versions,
        membership_snapshot=inputs.membership_snapshot,
        point_totals=point_totals,
        gaps=inputs.gaps,
        unpriced_hours=inputs.unpriced_hours,
        warnings=[*inputs.warnings, *result.warnings],
        hours=int(hours.size),
        injected_wh=result.injected_wh,
        withdrawn_wh=result.withdrawn_wh,
        shared_wh=result.shared_total_wh,
        incentive_eur=result.incentive_eur,
        valorisation_eur=result.valorisation_eur,
        excess_eur=result.excess_eur,
        gse_fees_eur=round_eur(Fraction(fees_year) / 12),
        created_at=now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if latest is not None:
        run.changes = _changes(latest, run, result)
    run.save()

    SettlementHour.objects.bulk_create(
        (
            SettlementHour(
                run=run,
                hour_start=dt.datetime.fromtimestamp(start, tz=dt.UTC),
                injected_wh=injected,
                withdrawn_wh=withdrawn,
                shared_wh=shared,
                price_eur_per_mwh=Decimal(price).scaleb(-4) if known else None,
            )
            for start, injected, withdrawn, shared, price, known in zip(
                hours.tolist(),
                inputs.plant_injected_wh.sum(axis=0).tolist(),
                inputs.withdrawn_wh.sum(axis=0).tolist(),
                result.shared_wh.tolist(),
                inputs.price_units.tolist(),
                inputs.price_known.tolist(),
                strict=True,
            )
        ),
        batch_size=2000,
    )
    RunPlant.objects.bulk_create(
        RunPlant(
            run=run,
            plant=plant,
            owner_id=plant.owner_id,
            injected_wh=figures.injected_wh,
            shared_wh=figures.shared_wh,
            incentivised_wh=figures.incentivised_wh,
            incentive_eur=figures.incentive_eur,
            gse_fee_eur_per_year=figures.gse_fee_eur_per_year,
            series=pack_series(
                result.allocation_wh[index], result.premium_rate_cent_per_mwh[index]
            ),
        )
        for index, (plant, figures) in enumerate(zip(inputs.plants, result.plants, strict=True))
    )
    RunMember.objects.bulk_create(_member_rows(run, inputs, result), batch_size=500)
    return run


def _member_rows(
    run: SettlementRun, inputs: Inputs, result: engine.SettlementResult
) -> list[RunMember]:
    """Aggregate points and plants per member: energies, parts of shared energy, hours."""
    consumer_parts = consumer_shares_wh(
        withdrawn_wh=inputs.withdrawn_wh, shared_wh=result.shared_wh
    )
    members = sorted(set(inputs.point_members))
    index_of = {member_id: i for i, member_id in enumerate(members)}
    point_rows = np.array([index_of[m] for m in inputs.point_members], dtype=np.intp)
    n_hours = inputs.hours.size

    def by_member(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.zeros((len(members), n_hours), dtype=np.int64)
        if array.size:
            np.add.at(out, rows, array)
        return out

    injected = by_member(inputs.injected_wh, point_rows)
    withdrawn = by_member(inputs.withdrawn_wh, point_rows)
    consumer = by_member(consumer_parts, point_rows)
    owners = [index_of.get(plant.owner_id) for plant in inputs.plants]
    kept = [i for i, owner in enumerate(owners) if owner is not None]
    producer = by_member(
        result.allocation_wh[kept], np.array([owners[i] for i in kept], dtype=np.intp)
    )
    active = np.zeros((len(members), n_hours), dtype=bool)
    for row, member_index in enumerate(point_rows.tolist()):
        active[member_index] |= inputs.active[row]
    return [
        RunMember(
            run=run,
            member_id=member_id,
            category=inputs.member_categories.get(member_id, ""),
            active_hours=int(active[i].sum()),
            injected_wh=int(injected[i].sum()),
            withdrawn_wh=int(withdrawn[i].sum()),
            producer_shared_wh=int(producer[i].sum()),
            consumer_shared_wh=int(consumer[i].sum()),
            series=pack_series(injected[i], withdrawn[i], consumer[i], producer[i]),
        )
        for i, member_id in enumerate(members)
    ]


def _changes(
    previous: SettlementRun, run: SettlementRun, result: engine.SettlementResult
) -> dict[str, Any]:
    """Describe what differs from the previous version: totals, points, hours."""
    totals = {}
    for name in (
        "injected_wh",
        "withdrawn_wh",
        "shared_wh",
        "incentive_eur",
        "valorisation_eur",
        "excess_eur",
    ):
        before, after = getattr(previous, name), getattr(run, name)
        if before != after:
            totals[name] = [str(before), str(after)]
    points = {}
    for pod in sorted(set(previous.point_totals) | set(run.point_totals)):
        before = previous.point_totals.get(pod, [0, 0])
        after = run.point_totals.get(pod, [0, 0])
        if before != after:
            points[pod] = {
                "injected_wh": [before[0], after[0]],
                "withdrawn_wh": [before[1], after[1]],
            }
    old_shared = dict(previous.hour_rows.values_list("hour_start", "shared_wh"))
    changed_hours = sum(
        1
        for start, shared in zip(run_hours(result), result.shared_wh.tolist(), strict=True)
        if old_shared.get(start) != shared
    )
    return {
        "from_version": previous.version,
        "totals": totals,
        "points": points,
        "hours_with_other_shared_energy": changed_hours,
        "parameters_changed": previous.parameter_versions != run.parameter_versions,
        "membership_changed": previous.membership_snapshot != run.membership_snapshot,
    }


def run_hours(result: engine.SettlementResult) -> list[dt.datetime]:
    return [dt.datetime.fromtimestamp(s, tz=dt.UTC) for s in result.hour_start_utc_s.tolist()]


def finalise_run(*, run: SettlementRun, actor: Any, now: dt.datetime) -> SettlementRun:
    """Make a run final (immutable). Raises RunAlreadyFinal, NotLatestVersion."""
    with transaction.atomic():
        locked = SettlementRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_final:
            raise RunAlreadyFinal(str(locked))
        newer = SettlementRun.objects.filter(
            configuration_id=locked.configuration_id, month=locked.month, version__gt=locked.version
        ).exists()
        if newer:
            raise NotLatestVersion(str(locked))
        locked.status = RunStatus.FINAL
        locked.finalised_at = now
        locked.finalised_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.save(update_fields=["status", "finalised_at", "finalised_by"])
        record(
            actor=actor,
            code="settlement.run.finalised",
            now=now,
            target=locked,
            community=locked.configuration.community,
            changes={"version": locked.version, "inputs_hash": locked.inputs_hash},
        )
    return locked


# Jobs -----------------------------------------------------------------------------------


def request_run(
    *, configuration: Configuration, month: dt.date, actor: Any, now: dt.datetime
) -> SettlementJob:
    """Queue a settlement of the month; in the embedded setup start it after commit.

    Raises RunAlreadyInProgress when another job for the same month is queued or running
    (a partial unique constraint in the database).
    """
    try:
        with transaction.atomic():
            job = SettlementJob.objects.create(
                configuration=configuration,
                month=first_of_month(month),
                requested_at=now,
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            record(
                actor=actor,
                code="settlement.job.requested",
                now=now,
                target=job,
                community=configuration.community,
                changes={"month": job.month.isoformat()},
            )
    except IntegrityError as error:
        raise RunAlreadyInProgress(f"{configuration} {month:%Y-%m}") from error
    if getattr(settings, "SETTLEMENT_JOBS_IN_PROCESS", True):
        transaction.on_commit(lambda: _start_thread(job.pk))
    return job


def _start_thread(job_id: int) -> None:
    def work() -> None:
        try:
            execute_job(job_id=job_id, now=timezone.now())
        finally:
            close_old_connections()

    threading.Thread(target=work, name=f"settlement-job-{job_id}", daemon=True).start()


def claim_next_job(*, now: dt.datetime) -> SettlementJob | None:
    """Mark the oldest queued job as running and return it (None when nothing is queued)."""
    for job_id in (
        SettlementJob.objects.filter(status=JobStatus.QUEUED)
        .order_by("pk")
        .values_list("pk", flat=True)[:10]
    ):
        claimed = SettlementJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=now
        )
        if claimed:
            return SettlementJob.objects.get(pk=job_id)
    return None


def execute_job(*, job_id: int, now: dt.datetime) -> SettlementJob:
    """Run a queued (or claimed) job to the end, recording its run or its error."""
    SettlementJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now
    )
    job = SettlementJob.objects.select_related("configuration__community").get(pk=job_id)
    if job.status != JobStatus.RUNNING:
        return job
    try:
        outcome = compute_month(
            configuration=job.configuration, month=job.month, now=now, actor=job.requested_by
        )
    except SettlementError as error:
        job.status, job.error = JobStatus.FAILED, str(error)
        job.finished_at = now
        job.save(update_fields=["status", "error", "finished_at"])
        logger.info("settlement job %s failed: %s", job.pk, error)
        return job
    except Exception as error:
        job.status, job.error = JobStatus.FAILED, f"unexpected error: {error!r}"
        job.finished_at = now
        job.save(update_fields=["status", "error", "finished_at"])
        logger.exception("settlement job %s failed", job.pk)
        return job
    job.status, job.run, job.created_new_version = JobStatus.DONE, outcome.run, outcome.created
    job.finished_at = timezone.now() if now is None else now
    job.save(update_fields=["status", "run", "created_new_version", "finished_at"])
    return job


def active_job(configuration: Configuration, month: dt.date) -> SettlementJob | None:
    return SettlementJob.objects.filter(
        configuration=configuration, month=first_of_month(month), status__in=ACTIVE_JOB_STATUSES
    ).first()


# Year ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearSummary:
    year: int
    runs: list[SettlementRun]
    missing_months: list[dt.date]
    injected_wh: int
    withdrawn_wh: int
    shared_wh: int
    incentive_eur: Decimal
    valorisation_eur: Decimal
    monthly_excess_eur: Decimal
    year_excess_eur: Decimal | None
    year_warnings: list[str]
    enterprise_eur: Decimal
    enterprise_ceiling_eur: Decimal | None

    @property
    def enterprises_above_ceiling(self) -> bool:
        return self.enterprise_ceiling_eur is not None and (
            self.enterprise_eur > self.enterprise_ceiling_eur
        )


def year_summary(*, configuration: Configuration, year: int) -> YearSummary:
    """Roll up the latest run of each month and apply the 55 %/45 % rule over the year.

    The year's excess is the engine's, settled over the whole Europe/Rome calendar year
    (REGULATION.md §5: GSE checks the rule yearly); the monthly figures only indicate it.
    Enterprises may receive at most amounts - excess - pots that are not social
    (docs/algorithms/distribution.md).
    """
    runs: list[SettlementRun] = []
    missing: list[dt.date] = []
    for month_number in range(1, 13):
        month = dt.date(year, month_number, 1)
        run = (
            SettlementRun.objects.filter(configuration=configuration, month=month)
            .order_by("-version")
            .first()
        )
        if run is None:
            missing.append(month)
        else:
            runs.append(run)
    excess: Decimal | None = None
    warnings: list[str] = []
    if runs:
        start, end = buckets.local_year_bounds_utc_s(year)
        hours = np.arange(start, end, buckets.HOUR_S, dtype=np.int64)
        try:
            result = _settle(load_inputs(configuration=configuration, hours=hours))
            excess = result.excess_eur
            warnings = list(result.warnings)
        except SettlementError as error:
            warnings = [str(error)]
    enterprise = Decimal(0)
    ceiling: Decimal | None = None
    distributions = [getattr(run, "distribution", None) for run in runs]
    distributed = [d for d in distributions if d is not None]
    if distributed and excess is not None:
        amount = sum((d.amount_eur for d in distributed), Decimal(0))
        enterprise = sum((enterprise_total(d) for d in distributed), Decimal(0))
        others = sum((other_pots_total(d) for d in distributed), Decimal(0))
        ceiling = max(Decimal(0), amount - excess - others)
    return YearSummary(
        year=year,
        runs=runs,
        missing_months=missing,
        injected_wh=sum(r.injected_wh for r in runs),
        withdrawn_wh=sum(r.withdrawn_wh for r in runs),
        shared_wh=sum(r.shared_wh for r in runs),
        incentive_eur=sum((r.incentive_eur for r in runs), Decimal(0)),
        valorisation_eur=sum((r.valorisation_eur for r in runs), Decimal(0)),
        monthly_excess_eur=sum((r.excess_eur for r in runs), Decimal(0)),
        year_excess_eur=excess,
        year_warnings=warnings,
        enterprise_eur=enterprise,
        enterprise_ceiling_eur=ceiling,
    )
