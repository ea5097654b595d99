"""Settlement events that notify the managers, end to end: a month settled or failed, and
a GSE file whose certified amount differs from the platform's calculation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cer.core import formatting
from cer.distribution.services import set_policy
from cer.notifications.delivery import deliver_due
from cer.notifications.models import Delivery, Notification
from cer.settlement.jobs import execute_job
from cer.settlement.models import JobStatus, SettlementJob
from cer.settlement.services import compute_month
from tests import factories
from tests.factories.billing import JUNE, NOW
from tests.factories.settlement import add_prices, make_small, settled_small
from tests.members.smtp import body_of

pytestmark = pytest.mark.django_db


def _referente(small):
    user = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    user.email = "ref@example.org"
    user.save()
    return user


def _deliver(notice):
    deliver_due(Delivery.objects.get(notification=notice).next_attempt_at)


def _queue_from_the_page(client, small, month):
    client.post(
        reverse("settlement:configuration_runs", kwargs={"pk": small.configuration.pk}),
        {"month": f"{month:%Y-%m}"},
    )
    return SettlementJob.objects.get()


def test_a_settled_month_tells_the_managers_its_shared_energy_and_incentive(
    client, settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.SETTLEMENT_JOBS_IN_PROCESS = False
    small = settled_small()
    referente = _referente(small)
    client.force_login(referente)
    job = _queue_from_the_page(client, small, JUNE)

    with django_capture_on_commit_callbacks(execute=True):
        done = execute_job(job_id=job.pk, now=NOW)

    assert done.status == JobStatus.DONE
    run = done.run
    notice = Notification.objects.get(user=referente)
    assert notice.topic == "settlement.run.finished"
    assert notice.link == f"/settlement/runs/{run.pk}/"
    _deliver(notice)
    (message,) = smtp_server.messages
    assert message["To"] == "ref@example.org"
    text = body_of(message)
    assert "giugno 2025" in text
    # Written through cer.core.formatting in Italian: "1.234,567 kWh", "88,26 €".
    assert run.shared_wh > 0 and formatting.kwh(run.shared_wh, lang="it") in text
    incentive = f"{run.incentive_eur:.2f}".replace(".", ",") + "\xa0€"
    assert f"incentivo {incentive}" in text


def test_a_failed_settlement_tells_the_managers_why_at_once(
    client, settings, smtp_server, django_capture_on_commit_callbacks
):
    settings.SETTLEMENT_JOBS_IN_PROCESS = False
    small = make_small()
    may = dt.date(2025, 5, 1)
    add_prices(may)
    referente = _referente(small)
    client.force_login(referente)
    job = _queue_from_the_page(client, small, may)

    with django_capture_on_commit_callbacks(execute=True):
        done = execute_job(job_id=job.pk, now=NOW)

    assert done.status == JobStatus.FAILED
    notice = Notification.objects.get(user=referente)
    assert notice.topic == "settlement.run.failed"
    _deliver(notice)  # urgent: due at once, when the job ended
    (message,) = smtp_server.messages
    assert (
        message["Subject"].strip()
        == f"{small.configuration.name}: la liquidazione di maggio 2025 non è riuscita"
    )
    # The reason as the job stored it (in the language the job ran in).
    assert "2025-05" in done.error and done.error in body_of(message)


def test_a_gse_file_that_differs_from_the_calculation_tells_the_managers_both_amounts(
    client, smtp_server, django_capture_on_commit_callbacks
):
    small = settled_small()
    set_policy(
        community=small.community,
        valid_from=JUNE,
        pots=[],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    referente = _referente(small)
    client.force_login(referente)
    certified = run.incentive_eur + Decimal("2.50")
    upload = SimpleUploadedFile(
        "gse-giugno.csv", f"period,type,amount\n2025-06,TIP,{certified}\n".encode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("settlement:gse_import", kwargs={"pk": small.configuration.pk}),
            {"file": upload},
        )

    notice = Notification.objects.get(user=referente)
    assert notice.topic == "settlement.gse.differs"
    _deliver(notice)  # a money topic: at once
    (message,) = smtp_server.messages
    assert message["To"] == "ref@example.org"

    def eur(value):
        return f"{value:.2f}".replace(".", ",") + "\xa0€"

    text = body_of(message)
    assert f"certifica {eur(certified)}" in text
    assert f"ha calcolato {eur(run.incentive_eur)}" in text
    assert f"una differenza di {eur(Decimal('2.50'))}" in text


def test_a_gse_amount_within_a_cent_tells_nobody(client, django_capture_on_commit_callbacks):
    small = settled_small()
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    client.force_login(_referente(small))
    upload = SimpleUploadedFile(
        "gse.csv",
        f"period,type,amount\n2025-06,TIP,{run.incentive_eur + Decimal('0.01')}\n".encode(),
    )

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("settlement:gse_import", kwargs={"pk": small.configuration.pk}),
            {"file": upload},
        )

    assert not Notification.objects.filter(topic="settlement.gse.differs").exists()
