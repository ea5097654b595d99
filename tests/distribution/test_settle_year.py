"""settle_and_distribute_year: each month distributed beside the computing of the next.

On PostgreSQL outside a transaction, follow_year hands each stored month to a second
thread, or to a child process where a fork is safe (cer.core.follow). These tests commit
for real (transactional database): a second connection sees only what is committed. The
year distributed either way must give the shares the same months give one after the
other, and an error of the follow-up must stop the year.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from cer.billing.models import Statement
from cer.core import follow
from cer.distribution.models import Distribution, MemberShare
from cer.distribution.services import NoPolicy, distribute_run, set_policy
from cer.distribution.year import settle_and_distribute_year
from cer.settlement.models import SettlementRun
from cer.settlement.services import compute_month, compute_year, follow_year
from cercalc import periods
from tests.factories.settlement import add_prices, add_readings, make_small

NOW = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)
YEAR = 2025

pytestmark = pytest.mark.django_db(transaction=True)


def _small_year(policy_from: dt.date = dt.date(2025, 1, 1)):
    small = make_small()
    for month in periods.year(YEAR).months():
        add_readings(small, month.start)
        add_prices(month.start)
    set_policy(
        community=small.community,
        valid_from=policy_from,
        pots=[{"code": "running", "label": "Running costs", "percent": Decimal("10")}],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )
    return small


def _shares(distributions) -> list[dict[int, Decimal]]:
    return [
        dict(MemberShare.objects.filter(distribution=d).values_list("member_id", "amount_eur"))
        for d in distributions
    ]


def _shares_of_the_months_in_turn(small) -> list[dict[int, Decimal]]:
    """The reference: each month settled and distributed in turn, then rolled back."""
    with transaction.atomic():
        in_turn = []
        for month in periods.year(YEAR).months():
            run = compute_month(configuration=small.configuration, month=month.start, now=NOW).run
            in_turn.append(distribute_run(run=run, actor=None, now=NOW))
        expected = _shares(in_turn)
        transaction.set_rollback(True)
    assert not SettlementRun.objects.exists()
    assert any(amount for shares in expected for amount in shares.values())
    return expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the second thread is PostgreSQL's")
def test_the_year_distributed_alongside_gives_the_shares_of_the_months_in_turn():
    small = _small_year()
    months = [month.start for month in periods.year(YEAR).months()]
    expected = _shares_of_the_months_in_turn(small)
    threads = []

    def spy(outcome):
        threads.append(threading.current_thread().name)
        return distribute_run(run=outcome.run, actor=None, now=NOW)

    compute_year(configuration=small.configuration, year=YEAR, now=NOW, then=spy)

    assert set(threads) == {"settle-year-then"}  # the follow-up ran beside, not in turn
    distributions = list(Distribution.objects.order_by("run__month"))
    assert [d.run.month for d in distributions] == months
    assert _shares(distributions) == expected
    assert Statement.objects.filter(distribution__in=distributions).count() == 12 * 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the child is PostgreSQL's")
def test_the_year_distributed_in_a_child_process_gives_the_shares_of_the_months_in_turn(
    monkeypatch,
):
    # The test runner has threads of its own; the follow-up's child needs none of them.
    monkeypatch.setattr(follow, "can_fork", lambda: True)
    small = _small_year()
    expected = _shares_of_the_months_in_turn(small)

    def distribute_in(outcome):
        return os.getpid(), distribute_run(run=outcome.run, actor=None, now=NOW)

    outcomes, results = follow_year(
        configuration=small.configuration, year=YEAR, now=NOW, then=distribute_in, in_process=True
    )

    pids = {pid for pid, _ in results}
    assert len(pids) == 1 and os.getpid() not in pids
    distributions = [distribution for _, distribution in results]  # pickled back
    assert [d.run_id for d in distributions] == [outcome.run.pk for outcome in outcomes]
    assert _shares(distributions) == expected
    assert Statement.objects.filter(distribution__in=distributions).count() == 12 * 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the child is PostgreSQL's")
def test_a_refusal_in_the_child_process_stops_the_year_and_is_raised(monkeypatch):
    monkeypatch.setattr(follow, "can_fork", lambda: True)
    small = _small_year(policy_from=dt.date(2025, 2, 1))  # January has no policy

    with pytest.raises(NoPolicy, match="2025-01"):
        settle_and_distribute_year(configuration=small.configuration, year=YEAR, now=NOW)

    assert not Distribution.objects.exists()
    # January stays settled (the months after it stop where the refusal arrived, which
    # depends on timing, so they are not asserted).
    assert SettlementRun.objects.filter(month=dt.date(2025, 1, 1)).exists()


def test_settle_and_distribute_year_distributes_each_month_once():
    small = _small_year()

    distributions = settle_and_distribute_year(
        configuration=small.configuration, year=YEAR, now=NOW
    )

    assert [d.run.month for d in distributions] == [m.start for m in periods.year(YEAR).months()]
    assert Distribution.objects.count() == 12
    again = settle_and_distribute_year(configuration=small.configuration, year=YEAR, now=NOW)
    assert [d.pk for d in again] == [d.pk for d in distributions]


def test_an_error_of_the_follow_up_stops_the_year_and_is_raised():
    small = _small_year()

    def refuse_march(outcome):
        if outcome.run.month.month == 3:
            raise RuntimeError("March refused")
        distribute_run(run=outcome.run, actor=None, now=NOW)

    with pytest.raises(RuntimeError, match="March refused"):
        compute_year(configuration=small.configuration, year=YEAR, now=NOW, then=refuse_march)

    # The months after March are not distributed (their settling stops at the month being
    # computed when March was refused, which depends on timing, so it is not asserted).
    assert [d.run.month.month for d in Distribution.objects.order_by("run__month")] == [1, 2]


def test_the_command_settles_a_year_and_distributes_it_once_confirmed(monkeypatch):
    small = _small_year()
    configuration = str(small.configuration.pk)
    out = StringIO()

    call_command("settle_year", "--year", "2025", "--configuration", configuration, stdout=out)
    assert SettlementRun.objects.count() == 12 and not Distribution.objects.exists()
    assert "2025-01 v1 (new version)" in out.getvalue()

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="not confirmed"):
        call_command(
            "settle_year", "--year", "2025", "--configuration", configuration, "--distribute"
        )
    assert not Distribution.objects.exists()

    asked = StringIO()
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command(
        "settle_year",
        "--year",
        "2025",
        "--configuration",
        configuration,
        "--distribute",
        stdout=asked,
    )
    assert "distributes each one" in asked.getvalue()
    assert "2025-12 v1 distributed: " in asked.getvalue()
    assert Distribution.objects.count() == 12
    assert SettlementRun.objects.count() == 12  # the same inputs: no new version


def test_the_command_names_the_month_it_cannot_distribute():
    small = _small_year(policy_from=dt.date(2025, 2, 1))
    err = StringIO()

    with pytest.raises(CommandError, match="not settled"):
        call_command(
            "settle_year",
            "--year",
            "2025",
            "--configuration",
            str(small.configuration.pk),
            "--distribute",
            "--yes",
            stderr=err,
        )

    assert "no distribution policy for 2025-01" in err.getvalue()
    assert not Distribution.objects.exists()
