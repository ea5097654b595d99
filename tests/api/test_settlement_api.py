"""Settlement runs, statements and the community report through the API, with real figures."""

from __future__ import annotations

import csv as csv_module
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook
from rest_framework.test import APIClient

from cer.accounts import tokens
from cer.billing.models import Statement
from cer.billing.statements import correct_statement
from cer.metering.models import HourlyReading
from cer.settlement.models import (
    JobStatus,
    RunMember,
    RunStatus,
    SettlementHour,
    SettlementJob,
    SettlementRun,
)
from cer.settlement.services import compute_month, finalise_run
from tests import factories
from tests.api.conftest import assert_error, client_for
from tests.factories.billing import distributed_small
from tests.factories.settlement import make_settlement_run

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 7, 5, 9, 0, tzinfo=dt.UTC)
# Finalising cannot be undone: the API asks the caller to say so.
CONFIRM = {"confirm": True}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _no_job_threads(settings):
    # Jobs stay queued: the tests check the request, not the background computation.
    settings.SETTLEMENT_JOBS_IN_PROCESS = False


@pytest.fixture
def distributed():
    return distributed_small()


@pytest.fixture
def referente(distributed):
    small, _ = distributed
    return factories.make_user_with_role(small.community, role="REFERENTE", username="ref")


@pytest.fixture
def household_user(distributed):
    small, _ = distributed
    user = User.objects.create_user("anna")
    small.household.user = user
    small.household.save(update_fields=["user"])
    return user


def _run(distributed) -> SettlementRun:
    _, distribution = distributed
    return distribution.run


def _token_client(user, scopes: list[str]) -> APIClient:
    created = tokens.create_token(
        owner=user, name="script", scopes=scopes, now=timezone.now(), expires_at=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.secret}")
    return client


# --- runs -------------------------------------------------------------------------------


def test_a_settled_months_run_shows_the_figures_the_model_holds(distributed, referente):
    run = _run(distributed)

    body = client_for(referente).get(f"/api/v1/settlement-runs/{run.pk}").json()

    assert body["month"] == "2025-06"
    assert body["hours"] == 720
    # Shared energy per hour is min(injected, withdrawn): 3000 Wh of PV against 2300 Wh of
    # withdrawals for 10 daylight hours over 30 days.
    assert run.shared_wh == 2300 * 10 * 30
    assert body["shared_kwh"] == "690.000"
    assert body["injected_kwh"] == f"{Decimal(run.injected_wh) / 1000:.3f}"
    assert body["incentive_eur"] == str(run.incentive_eur) == "89.70"
    assert body["valorisation_eur"] == str(run.valorisation_eur)
    assert body["status"] == RunStatus.DRAFT
    assert body["inputs_hash"] == run.inputs_hash
    assert body["gaps"] == [] and body["unpriced_hours"] == []
    assert [row["plant"] for row in body["plants"]] == [distributed[0].plant.pk]
    assert body["plants"][0]["shared_kwh"] == "690.000"
    assert "series" not in body["plants"][0]
    members = {row["member"]: row for row in body["members"]}
    household = RunMember.objects.get(run=run, member=distributed[0].household)
    assert members[household.member_id]["consumer_shared_kwh"] == (
        f"{Decimal(household.consumer_shared_wh) / 1000:.3f}"
    )
    assert "series" not in members[household.member_id]


def test_runs_are_listed_newest_first_and_filtered_by_month(distributed, referente):
    small, _ = distributed
    older = make_settlement_run(small.configuration, month=dt.date(2025, 5, 1))
    url = f"/api/v1/configurations/{small.configuration.pk}/settlement-runs"
    client = client_for(referente)

    every = client.get(url).json()["results"]
    may = client.get(url, {"month": "2025-05"}).json()["results"]
    bad = client.get(url, {"month": "2025-13"})

    assert [row["id"] for row in every] == [_run(distributed).pk, older.pk]
    assert [row["id"] for row in may] == [older.pk]
    assert "month" in assert_error(bad, 400, "invalid")["fields"]


def test_hours_come_in_time_order_with_their_offset_across_the_october_change(
    distributed, referente
):
    small, _ = distributed
    run = make_settlement_run(small.configuration, month=dt.date(2025, 10, 1), hours=745)
    for hour, shared in ((0, 100), (1, 200), (23, 300)):
        SettlementHour.objects.create(
            run=run,
            hour_start=dt.datetime(2025, 10, 26, hour, tzinfo=dt.UTC),
            injected_wh=shared,
            withdrawn_wh=shared,
            shared_wh=shared,
            price_eur_per_mwh=Decimal("101.2500") if hour else None,
        )

    body = client_for(referente).get(f"/api/v1/settlement-runs/{run.pk}/hours").json()

    assert body["count"] == 3
    assert [row["hour_start"] for row in body["results"]] == [
        "2025-10-26T02:00:00+02:00",
        "2025-10-26T02:00:00+01:00",
        "2025-10-27T00:00:00+01:00",
    ]
    assert [row["shared_kwh"] for row in body["results"]] == ["0.100", "0.200", "0.300"]
    assert [row["price_eur_per_mwh"] for row in body["results"]] == [None, "101.2500", "101.2500"]


def test_the_month_hours_of_a_settled_run_are_paginated(distributed, referente):
    run = _run(distributed)

    body = (
        client_for(referente)
        .get(f"/api/v1/settlement-runs/{run.pk}/hours", {"limit": 24, "offset": 24})
        .json()
    )

    assert body["count"] == 720
    assert body["results"][0]["hour_start"] == "2025-06-02T00:00:00+02:00"
    day_two = SettlementHour.objects.filter(run=run).order_by("hour_start")[24:48]
    assert sum(Decimal(row["shared_kwh"]) for row in body["results"]) == Decimal(
        sum(hour.shared_wh for hour in day_two)
    ) / Decimal(1000)


def test_a_member_sees_no_run_as_in_the_web_app(distributed, household_user):
    small, _ = distributed
    client = client_for(household_user)

    runs = client.get(f"/api/v1/configurations/{small.configuration.pk}/settlement-runs")
    detail = client.get(f"/api/v1/settlement-runs/{_run(distributed).pk}")
    hours = client.get(f"/api/v1/settlement-runs/{_run(distributed).pk}/hours")

    assert_error(runs, 403, "permission_denied")
    assert_error(detail, 404, "not_found")
    assert_error(hours, 404, "not_found")


def test_requesting_a_month_queues_a_job_and_a_second_request_is_a_conflict(distributed, referente):
    small, _ = distributed
    url = f"/api/v1/configurations/{small.configuration.pk}/settlement-runs"
    client = client_for(referente)

    first = client.post(url, {"month": "2025-07"}, format="json")
    second = client.post(url, {"month": "2025-07"}, format="json")

    assert first.status_code == 202
    job = SettlementJob.objects.get()
    assert first.json()["id"] == job.pk
    assert first.json()["month"] == "2025-07"
    assert first.json()["status"] == JobStatus.QUEUED
    assert job.requested_by == referente
    assert_error(second, 409, "conflict")
    assert SettlementJob.objects.count() == 1


@pytest.mark.parametrize("month", ["2025-7", "2025-00", "luglio", "", None, 202507])
def test_a_bad_month_is_a_400_naming_month(distributed, referente, month):
    small, _ = distributed

    response = client_for(referente).post(
        f"/api/v1/configurations/{small.configuration.pk}/settlement-runs",
        {"month": month},
        format="json",
    )

    assert list(assert_error(response, 400, "invalid")["fields"]) == ["month"]
    assert not SettlementJob.objects.exists()


def test_requesting_a_final_month_queues_a_correction_version(distributed, referente):
    small, _ = distributed
    finalise_run(run=_run(distributed), actor=None, now=NOW)

    response = client_for(referente).post(
        f"/api/v1/configurations/{small.configuration.pk}/settlement-runs",
        {"month": "2025-06"},
        format="json",
    )

    assert response.status_code == 202, response.content
    assert SettlementJob.objects.filter(configuration=small.configuration).count() == 1


def test_a_manager_finalises_the_latest_version_once(distributed, referente):
    run = _run(distributed)
    client = client_for(referente)

    done = client.post(f"/api/v1/settlement-runs/{run.pk}/finalise", CONFIRM, format="json")
    again = client.post(f"/api/v1/settlement-runs/{run.pk}/finalise", CONFIRM, format="json")

    assert done.status_code == 200
    assert done.json()["status"] == RunStatus.FINAL
    run.refresh_from_db()
    assert run.is_final and run.finalised_by == referente
    assert_error(again, 409, "conflict")


def test_an_older_version_cannot_be_finalised(distributed, referente):
    small, _ = distributed
    first = _run(distributed)
    HourlyReading.objects.filter(connection_point=small.points["household"]).update(
        withdrawn_wh=800
    )
    newer = compute_month(configuration=small.configuration, month=first.month, now=NOW).run

    response = client_for(referente).post(
        f"/api/v1/settlement-runs/{first.pk}/finalise", CONFIRM, format="json"
    )

    assert newer.version == 2
    assert_error(response, 409, "conflict")
    assert SettlementRun.objects.get(pk=first.pk).status == RunStatus.DRAFT


def test_writes_need_the_settlement_scope_on_a_personal_token(distributed, referente):
    small, _ = distributed
    run = _run(distributed)
    reader = _token_client(referente, ["read"])
    writer = _token_client(referente, ["read", "settlement:write"])
    url = f"/api/v1/configurations/{small.configuration.pk}/settlement-runs"

    listed = reader.get(url)
    refused = reader.post(url, {"month": "2025-07"}, format="json")
    refused_final = reader.post(
        f"/api/v1/settlement-runs/{run.pk}/finalise", CONFIRM, format="json"
    )
    queued = writer.post(url, {"month": "2025-07"}, format="json")
    final = writer.post(f"/api/v1/settlement-runs/{run.pk}/finalise", CONFIRM, format="json")

    assert listed.status_code == 200
    assert_error(refused, 403, "missing_scope")
    assert_error(refused_final, 403, "missing_scope")
    assert queued.status_code == 202
    assert final.status_code == 200


# --- statements -------------------------------------------------------------------------


def test_a_member_lists_and_reads_only_their_own_statement(distributed, household_user):
    small, _ = distributed
    own = Statement.objects.get(member=small.household)
    other = Statement.objects.get(member=small.sme)
    client = client_for(household_user)

    listed = client.get("/api/v1/statements").json()["results"]
    detail = client.get(f"/api/v1/statements/{own.pk}").json()
    hidden = client.get(f"/api/v1/statements/{other.pk}")
    hidden_pdf = client.get(f"/api/v1/statements/{other.pk}/pdf")

    assert [row["id"] for row in listed] == [own.pk]
    assert detail["amount_eur"] == str(own.amount_eur)
    assert sum(Decimal(line["amount_eur"]) for line in detail["lines"]) == own.amount_eur
    assert [line["kind"] for line in detail["lines"]] == [
        line.kind for line in own.lines.order_by("position")
    ]
    row = RunMember.objects.get(run=_run(distributed), member=small.household)
    assert (
        detail["energy"]["consumer_shared_kwh"] == f"{Decimal(row.consumer_shared_wh) / 1000:.3f}"
    )
    assert detail["energy"]["community_shared_kwh"] == "690.000"
    assert detail["energy"]["active_hours"] == row.active_hours == 720
    assert_error(hidden, 404, "not_found")
    assert_error(hidden_pdf, 404, "not_found")


def test_the_statement_pdf_is_the_web_document(distributed, household_user):
    small, _ = distributed
    own = Statement.objects.get(member=small.household)

    response = client_for(household_user).get(f"/api/v1/statements/{own.pk}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert own.file_token in response["Content-Disposition"]


def test_a_manager_lists_the_communitys_statements_filtered_by_member_and_month(
    distributed, referente
):
    small, distribution = distributed
    client = client_for(referente)

    every = client.get("/api/v1/statements").json()["results"]
    one = client.get("/api/v1/statements", {"member": small.sme.pk, "month": "2025-06"})
    none = client.get("/api/v1/statements", {"month": "2025-05"}).json()["results"]

    assert {row["id"] for row in every} == set(
        Statement.objects.filter(distribution=distribution).values_list("pk", flat=True)
    )
    assert sum(Decimal(row["amount_eur"]) for row in every) == sum(
        s.amount_eur for s in Statement.objects.filter(distribution=distribution)
    )
    assert [row["member"] for row in one.json()["results"]] == [small.sme.pk]
    assert none == []


def test_the_list_shows_current_versions_unless_all_are_asked_for(distributed, referente):
    small, distribution = distributed
    old = Statement.objects.get(distribution=distribution, member=small.sme)
    new = correct_statement(
        statement=old, amount_eur=Decimal("1.25"), description="Rettifica", now=NOW
    )
    client = client_for(referente)

    current = client.get("/api/v1/statements", {"member": small.sme.pk}).json()["results"]
    every = client.get("/api/v1/statements", {"member": small.sme.pk, "versions": "all"})
    wrong = client.get("/api/v1/statements", {"versions": "latest"})

    assert [row["id"] for row in current] == [new.pk]
    assert {row["id"] for row in every.json()["results"]} == {old.pk, new.pk}
    assert list(assert_error(wrong, 400, "invalid")["fields"]) == ["versions"]


def test_a_manager_of_another_community_gets_404_for_its_statements(distributed):
    small, _ = distributed
    elsewhere = factories.make_community(name="CER Lontana", fiscal_code="00743110157")
    stranger = factories.make_user_with_role(elsewhere, role="REFERENTE", username="far")
    statement = Statement.objects.get(member=small.household)
    client = client_for(stranger)

    assert client.get("/api/v1/statements").json()["results"] == []
    assert_error(client.get(f"/api/v1/statements/{statement.pk}"), 404, "not_found")
    assert_error(client.get(f"/api/v1/statements/{statement.pk}/pdf"), 404, "not_found")
    assert_error(client.get(f"/api/v1/settlement-runs/{_run(distributed).pk}"), 404, "not_found")


# --- community report -------------------------------------------------------------------


def test_the_community_report_comes_as_csv_xlsx_and_pdf(distributed, referente, client):
    small, distribution = distributed
    url = f"/api/v1/communities/{small.community.pk}/report"
    api = client_for(referente)

    csv = api.get(url, {"year": "2025", "format": "csv"})
    xlsx = api.get(url, {"year": "2025", "format": "xlsx"})
    pdf = api.get(url, {"year": "2025", "format": "pdf"})

    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    client.force_login(referente)
    web_url = reverse("reports:report", kwargs={"pk": small.community.pk})
    web = client.get(web_url, {"period": "2025", "format": "csv", "dialect": "plain"})
    web_excel = client.get(web_url, {"period": "2025", "format": "csv"})
    excel = api.get(url, {"year": "2025", "format": "csv", "dialect": "excel"})
    wrong = api.get(url, {"year": "2025", "format": "csv", "dialect": "tsv"})
    # Programs get the plain dialect by default; the Italian Excel one when they ask for it.
    assert csv.content == web.content
    assert excel.content == web_excel.content
    assert excel.content.startswith(b"\xef\xbb\xbf")
    assert wrong.status_code == 400 and "dialect" in wrong.content.decode()
    rows = [row for row in csv_module.reader(io.StringIO(csv.content.decode())) if row]
    # The balance section: amount distributed, pots, shares, and a balance of zero.
    assert [row[1] for row in rows[-4:]] == [
        str(distribution.amount_eur),
        "4.68",
        "88.98",
        "0.00",
    ]
    balance = load_workbook(io.BytesIO(xlsx.content)).worksheets[-1]
    figures = [Decimal(str(row[1])) for row in balance.iter_rows(min_row=2, values_only=True)]
    assert distribution.amount_eur in figures
    assert pdf.content.startswith(b"%PDF")


def test_the_report_refuses_a_bad_year_or_format_and_members(distributed, referente):
    small, _ = distributed
    url = f"/api/v1/communities/{small.community.pk}/report"
    manager = client_for(referente)

    assert list(assert_error(manager.get(url, {"year": "25"}), 400)["fields"]) == ["year"]
    assert list(assert_error(manager.get(url, {"format": "doc"}), 400)["fields"]) == ["format"]
    member = factories.make_user_with_role(small.community, role="MEMBER", username="m")
    assert_error(client_for(member).get(url), 403, "permission_denied")


def test_the_report_list_links_the_community_report(distributed, referente):
    small, _ = distributed

    reports = client_for(referente).get("/api/v1/reports").json()

    entry = next(r for r in reports if r["code"] == "community_report")
    assert entry["community"] == small.community.pk
    assert entry["url"] == f"/api/v1/communities/{small.community.pk}/report"
    assert entry["formats"] == ["csv", "pdf", "xlsx"]
