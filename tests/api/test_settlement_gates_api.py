"""The settlement gates through the API: months that have not ended, `"confirm": true` on
finalising and distributing, the override of missing data, the latest version only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cer.distribution.models import Distribution
from cer.distribution.services import set_policy
from cer.settlement.models import RunStatus, SettlementJob, SettlementRun
from cer.settlement.services import compute_month
from cercalc import periods
from tests import factories
from tests.api.conftest import assert_error, client_for
from tests.factories.settlement import add_prices, add_readings, make_small, settled_small

pytestmark = pytest.mark.django_db

JUNE = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
CONFIRM = {"confirm": True}


# The API's addresses carry no language prefix, so it answers in the platform's language,
# Italian: the refusals below are read in Italian.
@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _no_job_threads(settings):
    settings.SETTLEMENT_JOBS_IN_PROCESS = False


def _policy(small) -> None:
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )


def _manager(small):
    return client_for(
        factories.make_user_with_role(small.community, role="REFERENTE", username="tesoriere")
    )


def test_the_api_refuses_to_queue_a_month_that_has_not_ended():
    small = make_small()
    this_month = periods.month_of(timezone.localdate()).start

    response = _manager(small).post(
        f"/api/v1/configurations/{small.configuration.pk}/settlement-runs",
        {"month": f"{this_month:%Y-%m}"},
        format="json",
    )

    error = assert_error(response, 400)
    assert "non è ancora finito" in error["fields"]["month"][0]
    assert not SettlementJob.objects.exists()


def test_finalising_through_the_api_needs_confirm_true():
    small = settled_small()
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    client = _manager(small)
    url = f"/api/v1/settlement-runs/{run.pk}/finalise"

    missing = client.post(url, {}, format="json")
    false = client.post(url, {"confirm": False}, format="json")
    run.refresh_from_db()
    status_before = run.status
    done = client.post(url, CONFIRM, format="json")

    assert "confirm" in assert_error(missing, 400)["fields"]
    assert "non può essere annullato" in assert_error(false, 400)["fields"]["confirm"][0]
    assert status_before == RunStatus.DRAFT
    assert done.status_code == 200, done.content
    assert done.json()["status"] == RunStatus.FINAL


def test_a_provisional_run_needs_an_override_reason_through_the_api():
    small = make_small()
    add_readings(small, JUNE, skip={"sme": {10, 11}})
    add_prices(JUNE)
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    client = _manager(small)
    url = f"/api/v1/settlement-runs/{run.pk}/finalise"

    refused = client.post(url, CONFIRM, format="json")
    run.refresh_from_db()
    refused_status = run.status
    done = client.post(
        url, {**CONFIRM, "override_reason": "Two hours the DSO will never send"}, format="json"
    )

    error = assert_error(refused, 400)
    assert "forzandola e indicandone il motivo" in error["fields"]["override_reason"][0]
    assert refused_status == RunStatus.DRAFT
    assert done.status_code == 200, done.content
    run.refresh_from_db()
    assert run.is_final and run.override_reason == "Two hours the DSO will never send"


def test_distributing_through_the_api_needs_confirm_and_issues_statements_once():
    small = settled_small()
    _policy(small)
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    client = _manager(small)
    url = f"/api/v1/settlement-runs/{run.pk}/distribute"

    refused = client.post(url, {}, format="json")
    nothing_yet = Distribution.objects.exists()
    created = client.post(url, CONFIRM, format="json")
    again = client.post(url, CONFIRM, format="json")

    assert "confirm" in assert_error(refused, 400)["fields"]
    assert not nothing_yet
    assert created.status_code == 201, created.content
    body = created.json()
    distribution = Distribution.objects.get(run=run)
    assert body["amount_eur"] == str(distribution.amount_eur)
    assert len(body["members"]) == 3
    assert sum(Decimal(m["amount_eur"]) for m in body["members"]) == distribution.amount_eur
    assert again.status_code == 200 and again.json()["id"] == body["id"]


def test_the_api_refuses_to_distribute_a_superseded_version_naming_the_current_one():
    small = settled_small()
    _policy(small)
    first = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    small.plant.power_kw = Decimal("46")
    small.plant.save(update_fields=["power_kw"])
    compute_month(configuration=small.configuration, month=JUNE, now=NOW)

    response = _manager(small).post(
        f"/api/v1/settlement-runs/{first.pk}/distribute", CONFIRM, format="json"
    )

    error = assert_error(response, 409, "conflict")
    assert "sostituita dalla versione 2" in error["message"]
    assert not Distribution.objects.exists()
    assert SettlementRun.objects.filter(month=JUNE).count() == 2


def test_the_api_says_how_to_fix_a_month_without_a_policy():
    small = settled_small()
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run

    response = _manager(small).post(
        f"/api/v1/settlement-runs/{run.pk}/distribute", CONFIRM, format="json"
    )

    error = assert_error(response, 409, "conflict")
    assert "Nessun criterio di ripartizione è valido in 2025-06" in error["message"]
    assert reverse("distribution:policy", kwargs={"pk": small.community.pk}) in error["message"]
