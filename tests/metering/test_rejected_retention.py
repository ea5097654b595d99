"""Rejected messages are deleted by age through `apply_retention`, never the recent ones."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from cer.metering.models import RejectedMessage
from cer.privacy import gdpr

pytestmark = [pytest.mark.urls("tests.metering.urls"), pytest.mark.django_db]

NOW = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)  # the night clocks move forward in Rome


def _rejected(point, *, days_ago: float) -> RejectedMessage:
    return RejectedMessage.objects.create(
        channel="MQTT",
        topic="cer/1/IT001E00000001/meter/readings",
        payload=b"garbage",
        received_at=NOW - dt.timedelta(days=days_ago),
        field="payload",
        reason="not JSON",
        configuration=point.configuration,
    )


def _left() -> list[int]:
    return sorted(RejectedMessage.objects.values_list("pk", flat=True))


def test_rejected_messages_older_than_the_setting_are_deleted(point, settings):
    settings.REJECTED_MESSAGE_RETENTION_DAYS = 365
    old = _rejected(point, days_ago=365.01)
    kept = _rejected(point, days_ago=364.99)

    outcome = gdpr.apply_retention(now=NOW)

    assert outcome["rejected_messages"] == 1
    assert _left() == [kept.pk]
    assert not RejectedMessage.objects.filter(pk=old.pk).exists()


def test_the_default_keeps_rejected_messages_for_a_year(point):
    kept = _rejected(point, days_ago=300)
    _rejected(point, days_ago=400)

    gdpr.apply_retention(now=NOW)

    assert _left() == [kept.pk]


def test_a_too_short_setting_never_deletes_the_last_thirty_days(point, settings):
    settings.REJECTED_MESSAGE_RETENTION_DAYS = 3
    recent = _rejected(point, days_ago=29.9)
    _rejected(point, days_ago=30.1)

    outcome = gdpr.apply_retention(now=NOW)

    assert outcome["rejected_messages"] == 1
    assert _left() == [recent.pk]


def test_the_device_page_states_the_retention_period(client, community, referente, settings):
    settings.REJECTED_MESSAGE_RETENTION_DAYS = 180
    client.force_login(referente)

    with translation.override("en"):
        page = client.get(reverse("metering:device_list", kwargs={"community_id": community.pk}))

    assert page.status_code == 200
    assert "Rejected messages are kept for 180 days, then deleted." in page.content.decode()
