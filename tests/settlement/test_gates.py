"""Months that cannot be settled are refused; irreversible steps are confirmed; only the
latest version of a month is distributed; a settlement job computes once.

Each treasurer case goes through the web pages (Django test client); the API side is in
tests/api/test_settlement_gates_api.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone, translation

from cer.audit.models import AuditEntry
from cer.billing import explain, pdf
from cer.billing.models import Statement, StatementStatus
from cer.core import formatting
from cer.distribution.models import Distribution
from cer.distribution.services import SupersededVersion, distribute_run, set_policy
from cer.settlement import jobs
from cer.settlement.jobs import claim_next_job, execute_job, request_run
from cer.settlement.models import JobStatus, RunStatus, SettlementJob, SettlementRun
from cer.settlement.services import (
    MonthNotOver,
    NoReadings,
    OverrideRequired,
    compute_month,
    finalise_run,
)
from cercalc import periods
from tests import factories
from tests.factories.settlement import add_prices, add_readings, make_small, settled_small

pytestmark = pytest.mark.django_db

JUNE = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English texts whatever the translations say."""
    with translation.override("en"):
        yield


def _policy(small) -> None:
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[{"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True}],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )


def _referente(client, small) -> User:
    user = factories.make_user_with_role(small.community, role="REFERENTE", username="tesoriere")
    client.force_login(user)
    return user


def _provisional_june():
    """June with three hours of the household's readings missing: a provisional run."""
    small = make_small()
    add_readings(small, JUNE, skip={"household": {100, 101, 102}})
    add_prices(JUNE)
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    assert run.provisional
    return small, run


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- a month that has not ended, a month without readings ------------------------------


def test_january_2027_cannot_be_settled_on_6_december_2026():
    small = make_small()

    with pytest.raises(MonthNotOver, match="2027-01 has not ended yet"):
        compute_month(
            configuration=small.configuration,
            month=dt.date(2027, 1, 1),
            now=dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC),
        )

    assert not SettlementRun.objects.exists()


def test_a_month_ends_at_midnight_in_rome_not_in_utc():
    small = settled_small()
    # 30 June 2025 22:00 UTC is 1 July 00:00 in Rome (CEST, UTC+2).
    rome_midnight = dt.datetime(2025, 6, 30, 22, 0, tzinfo=dt.UTC)

    with pytest.raises(MonthNotOver):
        compute_month(
            configuration=small.configuration,
            month=JUNE,
            now=rome_midnight - dt.timedelta(seconds=1),
        )
    run = compute_month(configuration=small.configuration, month=JUNE, now=rome_midnight).run

    assert run.month == JUNE


def test_the_runs_page_refuses_the_current_month_and_queues_nothing(client):
    small = settled_small()
    _referente(client, small)
    this_month = periods.month_of(timezone.localdate()).start
    url = reverse("settlement:configuration_runs", kwargs={"pk": small.configuration.pk})

    response = client.post(url, {"month": f"{this_month:%Y-%m}"}, follow=True)

    text = " ".join(_messages(response))
    next_month = periods.month_of(this_month).end
    assert f"{formatting.month(this_month)} is not over yet" in text
    assert f"Settle it from {formatting.day(next_month)} on." in text
    assert not SettlementJob.objects.exists()


def test_a_month_without_any_reading_is_refused_and_its_job_says_why():
    small = make_small()
    add_prices(dt.date(2025, 5, 1))
    job = request_run(
        configuration=small.configuration, month=dt.date(2025, 5, 1), actor=None, now=NOW
    )

    done = execute_job(job_id=job.pk, now=NOW)

    assert done.status == JobStatus.FAILED
    assert "No reading at all for 2025-05" in done.error
    assert not SettlementRun.objects.exists()
    with pytest.raises(NoReadings):
        compute_month(configuration=small.configuration, month=dt.date(2025, 5, 1), now=NOW)


# --- finalising: confirmation, override of missing data ---------------------------------


def test_finalising_asks_for_confirmation_naming_the_month_and_version(client):
    small = settled_small()
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    _referente(client, small)
    url = reverse("settlement:run_finalise", kwargs={"pk": run.pk})

    asked = client.post(url)

    run.refresh_from_db()
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "June 2025, version 1, becomes final" in page
    assert "3 members&#x27; statements" in page or "3 members' statements" in page
    assert run.status == RunStatus.DRAFT

    client.post(url, {"confirmed": "yes"})

    run.refresh_from_db()
    assert run.status == RunStatus.FINAL
    assert run.override_reason == ""


def test_a_provisional_month_is_not_made_final_without_a_reason(client):
    small, run = _provisional_june()
    _referente(client, small)
    url = reverse("settlement:run_finalise", kwargs={"pk": run.pk})

    response = client.post(url, {"confirmed": "yes"}, follow=True)

    run.refresh_from_db()
    assert run.status == RunStatus.DRAFT
    text = " ".join(_messages(response))
    assert "June 2025 is provisional: 1 point(s) have missing readings" in text
    assert "write in the box why the month should be final anyway" in text
    with pytest.raises(OverrideRequired):
        finalise_run(run=run, actor=None, now=NOW, override_reason="   ")


def test_a_provisional_month_made_final_records_who_when_and_why_and_is_audited(client):
    small, run = _provisional_june()
    user = _referente(client, small)
    url = reverse("settlement:run_finalise", kwargs={"pk": run.pk})
    reason = "The DSO confirmed the meter was off for three hours."

    asked = client.post(url, {"override_reason": reason})
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Data are missing (1 point(s) with gaps" in page
    assert f'name="override_reason" value="{reason}"' in page
    client.post(url, {"override_reason": reason, "confirmed": "yes"})

    run.refresh_from_db()
    assert run.status == RunStatus.FINAL
    assert run.override_reason == reason
    assert run.override_by == user
    assert run.override_at is not None
    entry = AuditEntry.objects.get(code="settlement.run.override")
    assert entry.changes["reason"] == reason
    assert entry.target_id == str(run.pk)


def test_statements_say_provisional_until_the_run_is_final(client):
    small, run = _provisional_june()
    _policy(small)
    distribute_run(run=run, actor=None, now=NOW)
    statement = Statement.objects.get(member=small.household, status=StatementStatus.CURRENT)
    member = User.objects.create_user("anna")
    small.household.user = member
    small.household.save(update_fields=["user"])
    client.force_login(member)
    page_url = reverse("billing:statement", kwargs={"pk": statement.pk})
    provisional_notice = "Provisional: the month's settlement is not final yet"

    before = client.get(page_url).content.decode()
    mine_before = client.get(reverse("billing:my_statements")).content.decode()
    finalise_run(run=run, actor=None, now=NOW, override_reason="DSO data will not come")
    statement.refresh_from_db()
    after = client.get(page_url).content.decode()
    mine_after = client.get(reverse("billing:my_statements")).content.decode()

    assert provisional_notice in before
    assert provisional_notice not in after
    assert '<span class="tag">provisional</span>' in mine_before
    assert '<span class="tag">provisional</span>' not in mine_after
    assert "made the month final anyway, for this reason: DSO data will not come" in after


def test_the_statement_pdf_says_provisional_while_the_run_is_not_final(monkeypatch):
    small, run = _provisional_june()
    _policy(small)
    distribute_run(run=run, actor=None, now=NOW)
    statement = Statement.objects.get(member=small.household, status=StatementStatus.CURRENT)
    written: list[str] = []
    original = pdf._text
    monkeypatch.setattr(pdf, "_text", lambda value: written.append(value) or original(value))

    pdf.statement_pdf(explain.figures(statement))
    provisional_then = any(text.startswith("PROVISIONAL") for text in written)
    written.clear()
    finalise_run(run=run, actor=None, now=NOW, override_reason="DSO data will not come")
    statement.refresh_from_db()
    pdf.statement_pdf(explain.figures(statement))

    assert provisional_then
    assert not any(text.startswith("PROVISIONAL") for text in written)


# --- distributing: confirmation, latest version only, no policy -------------------------


def test_distributing_asks_for_confirmation_naming_amount_members_and_policy(client):
    small = settled_small()
    _policy(small)
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    _referente(client, small)
    url = reverse("settlement:run_distribute", kwargs={"pk": run.pk})
    amount = run.incentive_eur + run.valorisation_eur - run.gse_fees_eur

    asked = client.post(url)

    assert asked.status_code == 200
    page = asked.content.decode()
    assert f"Distribute {formatting.eur(amount)} among 3 members by the policy valid from" in page
    assert "statements are issued" in page
    assert not Distribution.objects.exists()

    client.post(url, {"confirmed": "yes"})

    assert Distribution.objects.get().run == run
    assert Statement.objects.filter(distribution__run=run).count() == 3


def test_an_older_version_cannot_be_distributed_after_a_newer_one(client):
    small = settled_small()
    _policy(small)
    first = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    small.plant.power_kw = Decimal("46")
    small.plant.save(update_fields=["power_kw"])
    second = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    third = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    assert (second.version, third.pk) == (2, second.pk)
    distribute_run(run=second, actor=None, now=NOW)
    _referente(client, small)

    response = client.post(
        reverse("settlement:run_distribute", kwargs={"pk": first.pk}),
        {"confirmed": "yes"},
        follow=True,
    )

    text = " ".join(_messages(response))
    assert "Version 1 of June 2025 has been replaced by version 2" in text
    second_url = reverse("settlement:run_detail", kwargs={"pk": second.pk})
    assert f'href="{second_url}"' in response.content.decode()
    assert not Distribution.objects.filter(run=first).exists()
    current = Statement.objects.filter(status=StatementStatus.CURRENT)
    assert {statement.distribution.run_id for statement in current} == {second.pk}
    with pytest.raises(SupersededVersion) as refused:
        distribute_run(run=first, actor=None, now=NOW)
    assert refused.value.current_version == 2


def test_distributing_without_a_policy_says_what_to_do_and_links_the_policy_page(client):
    small = settled_small()
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    _referente(client, small)

    response = client.post(
        reverse("settlement:run_distribute", kwargs={"pk": run.pk}),
        {"confirmed": "yes"},
        follow=True,
    )

    text = " ".join(_messages(response))
    policy_url = reverse("distribution:policy", kwargs={"pk": small.community.pk})
    assert "No distribution policy is valid in June 2025" in text
    assert f'href="{policy_url}"' in response.content.decode()
    assert "no distribution policy for" not in text
    assert not Distribution.objects.exists()


# --- one computation per job ------------------------------------------------------------


def test_a_job_claimed_by_another_worker_is_not_computed_twice():
    small = settled_small()
    job = request_run(configuration=small.configuration, month=JUNE, actor=None, now=NOW)
    claimed = claim_next_job(now=NOW)
    assert claimed is not None and claimed.pk == job.pk

    elsewhere = execute_job(job_id=job.pk, now=NOW)
    assert elsewhere.status == JobStatus.RUNNING
    assert not SettlementRun.objects.exists()

    end = NOW + dt.timedelta(seconds=42)
    done = execute_job(job_id=job.pk, now=NOW, claimed=True, clock=lambda: end)

    assert done.status == JobStatus.DONE
    assert done.finished_at == end
    assert SettlementRun.objects.count() == 1


def test_the_embedded_thread_and_the_command_settle_the_month_once(
    settings, monkeypatch, django_capture_on_commit_callbacks, client
):
    settings.SETTLEMENT_JOBS_IN_PROCESS = True
    small = settled_small()
    _referente(client, small)
    started: list[int] = []
    # The thread's work, run in this thread (the test database is not shared with others).
    monkeypatch.setattr(
        jobs,
        "_start_thread",
        lambda job_id: started.append(job_id) or execute_job(job_id=job_id, now=timezone.now()),
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("settlement:configuration_runs", kwargs={"pk": small.configuration.pk}),
            {"month": "2025-06"},
        )
    job = SettlementJob.objects.get()
    again = execute_job(job_id=job.pk, now=timezone.now())

    assert started == [job.pk]
    assert again.status == JobStatus.DONE
    assert again.run is not None
    assert again.finished_at >= again.started_at
    assert SettlementRun.objects.count() == 1


def test_the_monthly_command_computes_inline_without_starting_a_thread(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    settings.SETTLEMENT_JOBS_IN_PROCESS = True
    small = settled_small()
    monkeypatch.setattr(
        jobs, "_start_thread", lambda job_id: pytest.fail("the command started a thread")
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command(
            "compute_settlement", "--month", "2025-06", "--configuration", small.configuration.pk
        )

    # The one callback queued is the managers' notice of the finished job; a thread
    # starter would have failed the test when the callbacks ran.
    assert [c.__qualname__ for c in callbacks] == ["after_commit.<locals>.guarded"]
    job = SettlementJob.objects.get(configuration=small.configuration)
    assert job.status == JobStatus.DONE
    assert SettlementRun.objects.count() == 1


def test_the_monthly_command_refuses_a_month_that_has_not_ended():
    from django.core.management import CommandError, call_command

    small = settled_small()
    this_month = periods.month_of(timezone.localdate()).start

    with pytest.raises(CommandError, match="has not ended yet"):
        call_command(
            "compute_settlement",
            "--month",
            f"{this_month:%Y-%m}",
            "--configuration",
            small.configuration.pk,
        )

    assert not SettlementJob.objects.exists()
