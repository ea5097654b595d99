"""One alert per condition: opening, seeing again, closing, coming back, acknowledging."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from cer.alerts.models import Alert, AlertRule, AlertSettings, AlertState
from cer.alerts.services import AlertNotLive, acknowledge, evaluate
from cer.audit.models import AuditEntry
from cer.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

# A plant whose power and planned extension pass 90 % of 1 MW: the simplest condition.
BIG = {"power_kw": Decimal("800"), "planned_extension_kw": Decimal("150")}


@pytest.fixture
def big_plant(community):
    # The request to the GSE is filed, so the plant's only condition is the 1 MW limit.
    community.configurations.update(gse_request_date=dt.date(2024, 12, 1))
    point = factories.make_connection_point(
        community, factories.make_membership(community).member, has_injection=True
    )
    return factories.make_plant(point, **BIG)


def test_a_condition_opens_one_alert_and_tells_the_managers_once(
    community, referente, big_plant, now, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = evaluate(now)
    with django_capture_on_commit_callbacks(execute=True):
        second = evaluate(now + dt.timedelta(minutes=15))

    alert = Alert.objects.get(rule=AlertRule.POWER_LIMIT)
    assert (first.opened, second.opened, second.kept) == (1, 0, 1)
    assert alert.state == AlertState.OPEN
    assert alert.opened_at == now
    assert alert.last_seen_at == now + dt.timedelta(minutes=15)
    notices = Notification.objects.filter(user=referente, topic="alerts.opened")
    assert notices.count() == 1
    assert notices.get().dedupe_key == f"alert:{alert.pk}"
    assert "950" in notices.get().body


def test_an_alert_closes_itself_and_a_new_one_opens_when_the_condition_returns(
    community, big_plant, now
):
    evaluate(now)
    big_plant.planned_extension_kw = None
    big_plant.save()
    closed = evaluate(now + dt.timedelta(hours=1))
    big_plant.planned_extension_kw = Decimal("150")
    big_plant.save()
    evaluate(now + dt.timedelta(hours=2))

    alerts = list(Alert.objects.filter(rule=AlertRule.POWER_LIMIT).order_by("opened_at"))
    assert closed.closed == 1
    assert [a.state for a in alerts] == [AlertState.CLOSED, AlertState.OPEN]
    assert alerts[0].closed_at == now + dt.timedelta(hours=1)


def test_an_acknowledged_alert_still_closes_when_its_condition_clears(
    community, referente, big_plant, now
):
    evaluate(now)
    alert = Alert.objects.get()

    acknowledge(alert=alert, actor=referente, now=now)
    evaluate(now + dt.timedelta(minutes=15))
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    big_plant.planned_extension_kw = Decimal(0)
    big_plant.save()
    evaluate(now + dt.timedelta(minutes=30))

    alert.refresh_from_db()
    assert alert.state == AlertState.CLOSED
    assert alert.acknowledged_by == referente
    assert AuditEntry.objects.filter(code="alerts.alert.acknowledged").count() == 1
    with pytest.raises(AlertNotLive):
        acknowledge(alert=alert, actor=referente, now=now)


def test_the_database_refuses_a_second_live_alert_for_one_condition(community, now):
    fields = {
        "community": community,
        "rule": AlertRule.DEADLINE,
        "object_kind": "plant-gse-request",
        "object_id": 1,
        "object_label": "FV",
        "opened_at": now,
        "last_seen_at": now,
    }
    Alert.objects.create(**fields, state=AlertState.CLOSED)
    Alert.objects.create(**fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**fields, state=AlertState.ACKNOWLEDGED)


def test_a_rule_switched_off_closes_its_alerts(community, big_plant, now):
    evaluate(now)
    AlertSettings.objects.create(
        community=community, enabled_rules=[r for r in AlertRule.values if r != "POWER_LIMIT"]
    )

    outcome = evaluate(now + dt.timedelta(minutes=15))

    assert outcome.closed == 1
    assert not Alert.objects.filter(state=AlertState.OPEN).exists()


def test_evaluating_one_community_leaves_the_others_alone(community, big_plant, now):
    other = factories.make_community(name="Altra")
    evaluate(now, [other.pk])

    assert not Alert.objects.exists()
    evaluate(now, [community.pk])
    assert Alert.objects.count() == 1
