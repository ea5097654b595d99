"""Settlement runs: settle a month (versions, idempotency) and make a run final.

The arithmetic is the engine's (cercalc.settle); this module loads its inputs (inputs.py),
stores its results in bulk and keeps the history: the same inputs give back the same run,
different inputs give a new version that lists what changed, and a final run never changes.
Running a settlement in the background is jobs.py; the roll-up of a year is year.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.communities.models import Configuration
from cer.core import follow
from cer.core.bulk import insert_rows
from cer.distribution.models import MissingDataPolicy
from cer.distribution.services import policy_on
from cer.settlement.inputs import (
    Inputs,
    YearReads,
    engine_configuration,
    load_inputs,
    read_year,
)
from cer.settlement.models import (
    RunMember,
    RunPlant,
    RunStatus,
    SettlementHour,
    SettlementRun,
    pack_each_later,
    pack_series,
)
from cercalc import fees, periods
from cercalc import settle as engine
from cercalc.distribution import consumer_shares_wh


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


class MonthNotOver(SettlementError):
    """The month has not ended yet (Europe/Rome): its readings cannot be complete."""

    def __init__(self, month: dt.date) -> None:
        super().__init__(
            _("%(month)s has not ended yet: a month can be settled from its last day on.")
            % {"month": f"{month:%Y-%m}"}
        )
        self.month = month


class NoReadings(SettlementError):
    """Not one reading exists for the month: there is nothing to settle."""

    def __init__(self, month: dt.date) -> None:
        super().__init__(
            _(
                "No reading at all for %(month)s: import or record the month's readings "
                "before settling it."
            )
            % {"month": f"{month:%Y-%m}"}
        )
        self.month = month


class RunAlreadyFinal(SettlementError):
    """The run is final already."""


class OverrideRequired(SettlementError):
    """A provisional run (gaps or unpriced hours) becomes final only with a stated reason."""

    def __init__(self, run: SettlementRun) -> None:
        super().__init__(
            _(
                "Version %(version)s of %(month)s is provisional (%(gaps)s point(s) with "
                "missing readings, %(unpriced)s hour(s) without a price): it can be made final "
                "only with an override and its reason."
            )
            % {
                "version": run.version,
                "month": f"{run.month:%Y-%m}",
                "gaps": len(run.gaps),
                "unpriced": len(run.unpriced_hours),
            }
        )
        self.run = run


class NotLatestVersion(SettlementError):
    """Only the latest version of a month can be finalised."""


def check_month_over(*, month: dt.date, now: dt.datetime) -> None:
    """Refuse a month that has not ended in Europe/Rome at `now`.

    A month's readings, prices and GSE figures exist only once it is over (REGULATION.md
    §10: GSE settles a month from the operators' measurements of the whole month), so a
    run of a running or future month would be a guess that could even be made final.
    Raises MonthNotOver.
    """
    period = periods.month_of(month)
    if now < period.utc_bounds()[1]:
        raise MonthNotOver(period.start)


@dataclass(frozen=True)
class MonthOutcome:
    run: SettlementRun
    created: bool


def compute_month(
    *,
    configuration: Configuration,
    month: dt.date,
    now: dt.datetime,
    actor: Any = None,
    year: YearReads | None = None,
) -> MonthOutcome:
    """Settle a Europe/Rome calendar month and store it, unless the same inputs gave a run.

    Returns the existing latest run when its inputs hash matches (no new version), otherwise
    a new version that records what changed. Sources: the engine (cercalc.settle) for every
    figure; REGULATION.md §10 for the monthly shadow statement.
    Raises MonthNotOver (the month has not ended at `now`), NoReadings (not one reading in
    the month), IncompleteData (gaps and a policy that refuses them) and SettlementError
    (inputs the engine refuses). `year` (read_year) spares the reads of the month's
    points, memberships and readings when a year is settled (compute_year); the figures
    are the same.
    """
    period = periods.month_of(month)
    month = period.start
    check_month_over(month=month, now=now)
    inputs = load_inputs(configuration=configuration, hours=period.hour_starts_s(), year=year)
    if _has_no_reading(inputs):
        raise NoReadings(month)
    # The readings' hash is stored too: hashed once (a month is 20 MB of arrays).
    readings_hash = inputs.readings_hash()
    inputs_hash = inputs.inputs_hash(readings_hash)
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
        result = settle_inputs(inputs)
        hashes = (inputs_hash, readings_hash)
        run = _store(inputs, result, configuration, month, latest, hashes, now, actor)
        record(
            actor=actor,
            code="settlement.run.computed",
            now=now,
            target=run,
            community=configuration.community,
            changes={"version": run.version, "provisional": run.provisional},
        )
    return MonthOutcome(run=run, created=True)


def _has_no_reading(inputs: Inputs) -> bool:
    """Return whether every hour of membership of every point is a gap (no reading at all)."""
    member_hours = int(inputs.active.sum())
    missing_hours = sum(gap["count"] for gap in inputs.gaps)
    return member_hours > 0 and missing_hours >= member_hours


def compute_year(
    *,
    configuration: Configuration,
    year: int,
    now: dt.datetime,
    actor: Any = None,
    then: Callable[[MonthOutcome], object] | None = None,
) -> list[MonthOutcome]:
    """Settle the twelve Europe/Rome months of a year, reading the year once.

    Each month is stored exactly as compute_month stores it (its own transaction, version
    rules, inputs hash): the year's points, memberships and readings are read in one pass
    and each month takes its part of them (read_year). Returns the twelve outcomes, January
    first. Raises what compute_month raises, at the first month that cannot be settled (the
    months before it stay stored).

    `then` (e.g. distributing the run) is called with each month's outcome as follow_year
    calls it: on a thread beside the settling where it can.
    """
    if then is None:
        settle = _year_settler(configuration, year, now, actor)
        return [settle(month) for month in _months(year)]
    outcomes, _ = follow_year(
        configuration=configuration, year=year, now=now, actor=actor, then=then
    )
    return outcomes


def follow_year(
    *,
    configuration: Configuration,
    year: int,
    now: dt.datetime,
    then: Callable[[MonthOutcome], Any],
    actor: Any = None,
    in_process: bool = False,
) -> tuple[list[MonthOutcome], list[Any]]:
    """Settle a year as compute_year does and call `then` on each stored month, in order.

    Returns the outcomes and what `then` returned for each. On PostgreSQL, outside an
    enclosing transaction, `then` runs beside the settling (cer.core.follow), on its own
    database connection: on a second thread while the next month is computed or, with
    `in_process` and where a fork is safe, in a child process, so that the two halves do
    not take turns at the interpreter lock. In a child, `then` changes nothing of this
    process but the database, and its results come back pickled. Within an enclosing
    transaction (whose rows a second connection would not see) or on SQLite (one writer at
    a time) it runs in turn. An error of `then` stops the months after the one being
    computed and is raised.
    """
    outcomes: list[MonthOutcome] = []
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        settle = _year_settler(configuration, year, now, actor)
        results = []
        for month in _months(year):
            outcomes.append(settle(month))
            results.append(then(outcomes[-1]))
        return outcomes, results
    # Started before the year is read: a child process is forked without the year's arrays.
    beside = follow.follower(then, name="settle-year-then", in_process=in_process)
    try:
        settle = _year_settler(configuration, year, now, actor)
        for month in _months(year):
            if beside.failed():
                break
            outcomes.append(settle(month))
            beside.hand(outcomes[-1])
    except BaseException:
        # The months already stored are followed up to the end; this error is the one raised.
        with contextlib.suppress(BaseException):
            beside.close()
        raise
    return outcomes, beside.close()


def _year_settler(
    configuration: Configuration, year: int, now: dt.datetime, actor: Any
) -> Callable[[dt.date], MonthOutcome]:
    """compute_month for the months of a year, on the year read once (read_year)."""
    reads = read_year(configuration=configuration, year=year)

    def settle(month: dt.date) -> MonthOutcome:
        return compute_month(
            configuration=configuration, month=month, now=now, actor=actor, year=reads
        )

    return settle


def _months(year: int) -> list[dt.date]:
    return [month.start for month in periods.year(year).months()]


def settle_inputs(inputs: Inputs) -> engine.SettlementResult:
    """Run the engine (cercalc.settle) on loaded inputs, for a month or a whole year.

    Raises SettlementError when no point takes part or the engine refuses the inputs.
    """
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


def _not_measured_warnings(inputs: Inputs) -> list[str]:
    """Name the points whose winning readings are estimated or interpolated across a gap."""
    if not inputs.not_measured:
        return []
    points = ", ".join(f"{item['pod']} ({item['count']} h)" for item in inputs.not_measured[:10])
    return [
        "provisional: estimated or interpolated readings (not measured hour by hour) at "
        f"{len(inputs.not_measured)} point(s): {points}"
    ]


def _store(
    inputs: Inputs,
    result: engine.SettlementResult,
    configuration: Configuration,
    month: dt.date,
    latest: SettlementRun | None,
    hashes: tuple[str, str],
    now: dt.datetime,
    actor: Any,
) -> SettlementRun:
    hours = inputs.hours
    # The members' series compress on other cores while the run and its hours are stored.
    member_values = _member_values_later(inputs, result)
    fee_provision = month_fee_provision(configuration, month, result)
    # One sum per array, not two per point: a thousand points make two thousand calls.
    point_totals = {
        point.pod: [injected, withdrawn]
        for point, injected, withdrawn in zip(
            inputs.points,
            inputs.injected_wh.sum(axis=1).tolist(),
            inputs.withdrawn_wh.sum(axis=1).tolist(),
            strict=True,
        )
    }
    run = SettlementRun(
        configuration=configuration,
        month=month,
        version=(latest.version + 1) if latest else 1,
        provisional=inputs.provisional,
        previous=latest,
        inputs_hash=hashes[0],
        readings_hash=hashes[1],
        parameter_versions=inputs.parameter_versions,
        membership_snapshot=inputs.membership_snapshot,
        point_totals=point_totals,
        gaps=inputs.gaps,
        unpriced_hours=inputs.unpriced_hours,
        warnings=[*inputs.warnings, *_not_measured_warnings(inputs), *result.warnings],
        hours=int(hours.size),
        injected_wh=result.injected_wh,
        withdrawn_wh=result.withdrawn_wh,
        shared_wh=result.shared_total_wh,
        incentive_eur=result.incentive_eur,
        valorisation_eur=result.valorisation_eur,
        excess_eur=result.excess_eur,
        gse_fees_eur=fee_provision,
        created_at=now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if latest is not None:
        run.changes = _changes(latest, run, result)
    run.save()

    insert_rows(
        SettlementHour,
        ("run_id", "hour_start", "injected_wh", "withdrawn_wh", "shared_wh", "price_eur_per_mwh"),
        (
            (
                run.pk,
                dt.datetime.fromtimestamp(start, tz=dt.UTC),
                injected,
                withdrawn,
                shared,
                Decimal(price).scaleb(-4) if known else None,
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
    insert_rows(
        RunMember,
        ("run_id", *_MEMBER_COLUMNS),
        ((run.pk, *row) for row in member_values()),
        batch_size=500,
    )
    return run


def month_fee_provision(
    configuration: Configuration, month: dt.date, result: engine.SettlementResult
) -> Decimal:
    """Return the month's GSE fee provision [EUR], as a run stores it (and an estimate shows).

    GSE nets the yearly fees (REGULATION.md §7 [S]); a month provisions a rounded twelfth of
    them and December trues the year up (cercalc.fees.monthly_fee_provision_eur).
    """
    fees_year = sum((plant.gse_fee_eur_per_year for plant in result.plants), Decimal(0))
    return fees.monthly_fee_provision_eur(
        fee_eur_per_year=fees_year,
        month=month.month,
        provisioned_eur=_provisioned_before_december(configuration, month, fees_year),
    )


def _provisioned_before_december(
    configuration: Configuration, month: dt.date, fees_year: Decimal
) -> Decimal | None:
    """Return what January to November provisioned for GSE fees [EUR], for December's true-up.

    Each month counts its latest run's provision; a month never settled counts the rounded
    twelfth of this year's fee, so December trues up rounding and the fee changes of the
    months settled and charges nothing for months the configuration was not settled
    (a working reading: docs/algorithms/fees.md). None outside December.
    """
    if month.month != fees.MONTHS_PER_YEAR:
        return None
    latest: dict[dt.date, Decimal] = {}
    for run_month, provision in (
        SettlementRun.objects.filter(
            configuration=configuration, month__year=month.year, month__lt=month
        )
        .order_by("month", "version")
        .values_list("month", "gse_fees_eur")
    ):
        latest[run_month] = provision
    twelfth = fees.monthly_fee_provision_eur(fee_eur_per_year=fees_year, month=1)
    unsettled = fees.MONTHS_PER_YEAR - 1 - len(latest)
    return sum(latest.values(), Decimal(0)) + twelfth * unsettled


def member_rows(
    run: SettlementRun | None, inputs: Inputs, result: engine.SettlementResult
) -> list[RunMember]:
    """Aggregate points and plants per member: energies, parts of shared energy, hours.

    Unsaved rows; without a run they are an estimate's (the dashboards' unsettled months).
    """
    return [
        RunMember(run=run, **dict(zip(_MEMBER_COLUMNS, values, strict=True)))
        for values in _member_values(inputs, result)
    ]


# The fields of a RunMember that _member_values gives, in its order.
_MEMBER_COLUMNS = (
    "member_id",
    "category",
    "active_hours",
    "injected_wh",
    "withdrawn_wh",
    "producer_shared_wh",
    "consumer_shared_wh",
    "series",
)


def _member_values(inputs: Inputs, result: engine.SettlementResult) -> list[tuple[Any, ...]]:
    """Return each member's RunMember values (_MEMBER_COLUMNS), in member id order.

    Plain tuples: a settled month stores them with COPY, without an instance per member.
    """
    return _member_values_later(inputs, result)()


def _member_values_later(
    inputs: Inputs, result: engine.SettlementResult
) -> Callable[[], list[tuple[Any, ...]]]:
    """Start _member_values: the series compress on threads until the call returned is made."""
    consumer_parts = consumer_shares_wh(
        withdrawn_wh=inputs.withdrawn_wh, shared_wh=result.shared_wh
    )
    members = sorted(set(inputs.point_members))
    index_of = {member_id: i for i, member_id in enumerate(members)}
    point_rows = np.array([index_of[m] for m in inputs.point_members], dtype=np.intp)
    n_hours = inputs.hours.size

    # Each member's four hourly rows, laid out as pack_series lays them out: injected,
    # withdrawn, consumer's part, producer's part. Written in place: a month is 24 MB.
    series = np.zeros((len(members), 4, n_hours), dtype=np.int64)
    _add_by_member(series[:, 0], inputs.injected_wh, point_rows)
    _add_by_member(series[:, 1], inputs.withdrawn_wh, point_rows)
    _add_by_member(series[:, 2], consumer_parts, point_rows)
    owners = [index_of.get(plant.owner_id) for plant in inputs.plants]
    kept = [i for i, owner in enumerate(owners) if owner is not None]
    owner_rows = np.array([owners[i] for i in kept], dtype=np.intp)
    _add_by_member(series[:, 3], result.allocation_wh[kept], owner_rows)
    active = np.zeros((len(members), n_hours), dtype=bool)
    if np.unique(point_rows).size == point_rows.size:
        active[point_rows] = inputs.active
    else:
        np.logical_or.at(active, point_rows, inputs.active)
    packed_series = pack_each_later(series)
    sums = series.sum(axis=2)
    totals = zip(
        active.sum(axis=1).tolist(),
        sums[:, 0].tolist(),
        sums[:, 1].tolist(),
        sums[:, 3].tolist(),
        sums[:, 2].tolist(),
        strict=True,
    )
    rows = [
        (
            member_id,
            inputs.member_categories.get(member_id, ""),
            hours,
            injected_wh,
            withdrawn_wh,
            producer_wh,
            consumer_wh,
        )
        for member_id, (hours, injected_wh, withdrawn_wh, producer_wh, consumer_wh) in zip(
            members, totals, strict=True
        )
    ]
    return lambda: [(*row, series) for row, series in zip(rows, packed_series(), strict=True)]


def _add_by_member(out: np.ndarray, array: np.ndarray, rows: np.ndarray) -> None:
    """Add the rows of `array` (points or plants x hours) into `out` at their members' rows."""
    if not array.size:
        return
    if np.unique(rows).size == rows.size:
        out[rows] = array  # one row per member (the common case): nothing to add up
    else:
        np.add.at(out, rows, array)


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


def finalise_run(
    *, run: SettlementRun, actor: Any, now: dt.datetime, override_reason: str = ""
) -> SettlementRun:
    """Make a run final (immutable); a provisional run needs `override_reason`.

    A provisional run (missing readings or unpriced hours) would fix guessed amounts for
    good, so it becomes final only when a person states why (recorded on the run with who
    and when, and audited as `settlement.run.override`).
    Raises RunAlreadyFinal, NotLatestVersion, OverrideRequired.
    """
    reason = override_reason.strip()
    with transaction.atomic():
        locked = SettlementRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_final:
            raise RunAlreadyFinal(str(locked))
        newer = SettlementRun.objects.filter(
            configuration_id=locked.configuration_id, month=locked.month, version__gt=locked.version
        ).exists()
        if newer:
            raise NotLatestVersion(str(locked))
        if locked.provisional and not reason:
            raise OverrideRequired(locked)
        person = actor if getattr(actor, "is_authenticated", False) else None
        fields = ["status", "finalised_at", "finalised_by"]
        locked.status = RunStatus.FINAL
        locked.finalised_at = now
        locked.finalised_by = person
        if locked.provisional:
            locked.override_reason = reason
            locked.override_at = now
            locked.override_by = person
            fields += ["override_reason", "override_at", "override_by"]
        locked.save(update_fields=fields)
        community = locked.configuration.community
        if locked.provisional:
            record(
                actor=actor,
                code="settlement.run.override",
                now=now,
                target=locked,
                community=community,
                changes={
                    "version": locked.version,
                    "reason": reason,
                    "gaps": len(locked.gaps),
                    "unpriced_hours": len(locked.unpriced_hours),
                },
            )
        record(
            actor=actor,
            code="settlement.run.finalised",
            now=now,
            target=locked,
            community=community,
            changes={"version": locked.version, "inputs_hash": locked.inputs_hash},
        )
    return locked
