"""The first events that notify: applications and their outcome, devices gone silent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from cer.metering.models import IntervalEnergy
from cer.metering.silence import notify_silent_devices
from cer.notifications.delivery import deliver_due
from cer.notifications.models import Delivery, Notification
from tests import factories
from tests.metering.conftest import make_device

pytestmark = pytest.mark.django_db


def test_a_submitted_application_tells_the_referente_with_a_link_to_it(
    client, community, referente, member_user, django_capture_on_commit_callbacks
):
    application = factories.make_application(community, status="IN_PROGRESS", step="POINTS")
    client.force_login(application.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("members:onboarding"),
            {
                "pt-TOTAL_FORMS": "1",
                "pt-INITIAL_FORMS": "0",
                "pt-0-pod": "IT001E55500001",
                "pt-0-configuration": str(community.configurations.get().pk),
                "pt-0-contracted_power_kw": "3",
                "pt-0-has_withdrawal": "on",
                "pt-0-address": "Via Venezia 5",
            },
        )

    assert response.status_code == 302
    notice = Notification.objects.get(user=referente)
    assert notice.topic == "members.application.submitted"
    assert notice.subject == (
        f"{application.member.display_name} ha chiesto di aderire a CER Prova"
    )  # in the recipient's language, Italian by default
    assert notice.link == f"/members/applications/{application.pk}/"
    assert notice.sender_name == "CER Prova"
    # A plain member of the community is not told; nor is the applicant.
    assert not Notification.objects.filter(user__in=[member_user, application.user]).exists()


def test_an_approval_tells_the_applicant_by_email_in_the_digest(
    client, community, referente, smtp_server, django_capture_on_commit_callbacks
):
    application = factories.make_application(community)
    application.user.email = "candidato@example.org"
    application.user.save()
    client.force_login(referente)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("members:application", args=[application.pk]),
            {"action": "approve", "valid_from": "2025-04-01"},
        )

    notice = Notification.objects.get(user=application.user)
    assert notice.topic == "members.application.approved"
    assert notice.body == (
        "La tua domanda di adesione a CER Prova è stata approvata: sei membro a partire dal "
        "1 aprile 2025."
    )
    due = Delivery.objects.get(notification=notice).next_attempt_at
    deliver_due(due)
    (message,) = smtp_server.messages
    assert message["To"] == "candidato@example.org"
    assert message["From"] == "CER Prova <noreply@localhost>"


def test_a_rejection_tells_the_applicant(
    client, community, referente, django_capture_on_commit_callbacks
):
    application = factories.make_application(community)
    client.force_login(referente)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:application", args=[application.pk]), {"action": "reject"})

    notice = Notification.objects.get(user=application.user)
    assert notice.topic == "members.application.rejected"
    assert notice.subject == "La tua domanda di adesione a CER Prova"


def test_a_failed_approval_tells_nobody(
    client, community, referente, django_capture_on_commit_callbacks
):
    application = factories.make_application(community, status="REJECTED")
    client.force_login(referente)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("members:application", args=[application.pk]),
            {"action": "approve", "valid_from": "2025-04-01"},
        )

    assert not Notification.objects.exists()


@pytest.fixture
def device(community):
    holder = factories.make_membership(community).member
    point = factories.make_connection_point(community, holder)
    return make_device(point, created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))


def _heard_at(device, moment):
    IntervalEnergy.objects.create(
        connection_point=device.connection_point,
        device=device,
        start_at=moment - dt.timedelta(hours=1),
        end_at=moment,
        withdrawn_wh=100,
        injected_wh=0,
        received_at=moment,
    )


def test_a_device_silent_for_seven_days_is_told_to_the_referente_once(device, referente):
    last = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    _heard_at(device, last)

    early = notify_silent_devices(last + dt.timedelta(days=6, hours=23))
    first = notify_silent_devices(last + dt.timedelta(days=7))
    again = notify_silent_devices(last + dt.timedelta(days=8))

    assert (early, first, again) == (0, 1, 0)
    notice = Notification.objects.get(user=referente)
    assert notice.topic == "metering.device.silent"
    assert notice.subject == (
        f"Il dispositivo {device.name} non trasmette dati dal 28 novembre 2026, 13:00"
    )
    assert notice.link == f"/metering/devices/{device.pk}/"


def test_a_device_that_speaks_and_falls_silent_again_is_told_again(device, referente):
    last = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    _heard_at(device, last)
    notify_silent_devices(last + dt.timedelta(days=7))

    _heard_at(device, last + dt.timedelta(days=9))
    told = notify_silent_devices(last + dt.timedelta(days=16))

    assert told == 1
    assert Notification.objects.filter(user=referente).count() == 2


def test_the_sender_command_runs_the_silence_check(device, referente):
    call_command("deliver_notifications", "--once")

    # Never heard from since its creation on 1 November 2026: silent today.
    assert Notification.objects.filter(user=referente, topic="metering.device.silent").exists()
