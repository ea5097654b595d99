"""The scheduler runs each due job once per period, records failures, and survives them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from cer.core import periodic
from cer.core.models import PeriodicRun

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def jobs(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", {})
    monkeypatch.setattr(periodic, "_discovered", True)
    calls: list[tuple[str, dt.datetime]] = []

    def counting(name):
        return lambda now: calls.append((name, now)) or len(calls)

    def failing(now):
        raise RuntimeError("the broker is down")

    periodic.register("every-minute", dt.timedelta(minutes=1), counting("every-minute"))
    periodic.register("hourly", dt.timedelta(hours=1), counting("hourly"))
    periodic.register("broken", dt.timedelta(minutes=1), failing)
    return calls


def test_a_due_job_runs_once_per_period(jobs):
    periodic.run_due(T0)
    periodic.run_due(T0 + dt.timedelta(seconds=20))  # a second round within the minute
    periodic.run_due(T0 + dt.timedelta(minutes=1))
    assert [name for name, _ in jobs] == ["every-minute", "hourly", "every-minute"]
    hourly = PeriodicRun.objects.get(name="hourly")
    assert hourly.next_run_at == T0 + dt.timedelta(hours=1)
    assert hourly.last_started_at == T0


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(jobs):
    outcomes = {o.name: o for o in periodic.run_due(T0)}
    assert outcomes["broken"].error == "RuntimeError: the broker is down"
    assert outcomes["hourly"].error == ""
    assert PeriodicRun.objects.get(name="broken").last_error == "RuntimeError: the broker is down"
    # It is tried again in its next period, not in the same one.
    assert "broken" not in {o.name for o in periodic.run_due(T0 + dt.timedelta(seconds=30))}
    assert "broken" in {o.name for o in periodic.run_due(T0 + dt.timedelta(minutes=1))}


def test_two_schedulers_share_a_period(jobs):
    # The second claim of the same period finds the row already moved forward.
    job = periodic._jobs["hourly"]
    assert periodic._claim(job, T0) is True
    assert periodic._claim(job, T0) is False


def test_only_runs_the_named_jobs(jobs):
    outcomes = periodic.run_due(T0, only={"hourly"})
    assert [o.name for o in outcomes] == ["hourly"]


def test_the_notification_jobs_are_discovered():
    call_command("run_periodic", "--list")
    names = {job.name for job in periodic.all_jobs()}
    assert {"notifications.deliver", "notifications.checks"} <= names


def test_interval_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        periodic.register("never", dt.timedelta(0), lambda now: None)
