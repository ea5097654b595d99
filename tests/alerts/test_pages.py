"""The referente's alerts page, acknowledging through it, the command, the job, the badge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from cer.alerts.models import Alert, AlertRule, AlertState
from cer.audit.models import AuditEntry
from cer.core import periodic
from tests import factories

pytestmark = pytest.mark.django_db


def _alert(community, *, rule=AlertRule.POWER_LIMIT, state=AlertState.OPEN, object_id=1):
    now = dt.datetime(2025, 10, 27, 10, 0, tzinfo=dt.UTC)
    return Alert.objects.create(
        community=community,
        rule=rule,
        object_kind="plant",
        object_id=object_id,
        object_label="FV Scuola",
        state=state,
        opened_at=now,
        last_seen_at=now,
        figures={
            "plant": "FV Scuola",
            "power_kw": "800",
            "extension_kw": "150",
            "after_kw": "950",
            "limit_kw": "1000",
        },
        link="/it/plants/1/edit/",
    )


def test_the_referente_sees_open_alerts_first_with_their_explanation(client, community, referente):
    _alert(community, state=AlertState.CLOSED, object_id=2)
    _alert(community)
    client.force_login(referente)

    page = client.get(reverse("alerts:list", args=[community.pk]), {"state": "all"})

    text = page.content.decode()
    assert page.status_code == 200
    assert text.index('class="card alert-open"') < text.index('class="card alert-closed"')
    assert "950\u00a0kW" in text
    assert "1.000\u00a0kW" in text
    assert text.count("<article") == 2


def test_the_list_filters_by_rule_and_state(client, community, referente):
    _alert(community)
    _alert(community, rule=AlertRule.DEADLINE, object_id=3)
    client.force_login(referente)

    page = client.get(reverse("alerts:list", args=[community.pk]), {"rule": "POWER_LIMIT"})
    closed = client.get(reverse("alerts:list", args=[community.pk]), {"state": "CLOSED"})

    assert page.content.decode().count("<article") == 1
    assert closed.content.decode().count("<article") == 0


def test_a_member_may_not_see_the_alerts(client, community, member_user):
    client.force_login(member_user)

    assert client.get(reverse("alerts:list", args=[community.pk])).status_code == 403


def test_acknowledging_through_the_page_is_audited(client, community, referente):
    alert = _alert(community)
    client.force_login(referente)

    response = client.post(reverse("alerts:acknowledge", args=[community.pk]), {"alert": alert.pk})

    alert.refresh_from_db()
    assert response.status_code == 302
    assert alert.state == AlertState.ACKNOWLEDGED
    assert alert.acknowledged_by == referente
    entry = AuditEntry.objects.get(code="alerts.alert.acknowledged")
    assert entry.community_id == community.pk


def test_an_alert_of_another_community_cannot_be_acknowledged_from_this_one(
    client, community, referente
):
    other = factories.make_community(name="Altra")
    alert = _alert(other)
    client.force_login(referente)

    response = client.post(reverse("alerts:acknowledge", args=[community.pk]), {"alert": alert.pk})

    alert.refresh_from_db()
    assert response.status_code == 404
    assert alert.state == AlertState.OPEN


def test_the_index_leads_a_referente_to_the_community_alerts(client, community, referente):
    client.force_login(referente)

    response = client.get(reverse("alerts:index"))

    assert response.status_code == 302
    assert response["Location"] == reverse("alerts:list", args=[community.pk])


def test_the_command_evaluates_one_community(community, capsys):
    point = factories.make_connection_point(
        community, factories.make_membership(community).member, has_injection=True
    )
    factories.make_plant(point, power_kw=Decimal("800"), planned_extension_kw=Decimal("150"))

    call_command("evaluate_alerts", "--community", str(community.pk))

    assert Alert.objects.filter(rule=AlertRule.POWER_LIMIT).count() == 1
    assert "opened" in capsys.readouterr().out


def test_the_evaluation_runs_every_15_minutes():
    jobs = {job.name: job for job in periodic.all_jobs()}

    assert jobs["alerts.evaluate"].every == dt.timedelta(minutes=15)


def test_the_dashboard_shows_the_count_to_the_referente_only(
    client, community, referente, member_user
):
    _alert(community)
    url = reverse("dashboards:community", args=[community.pk])

    client.force_login(referente)
    for_referente = client.get(url).content.decode()
    client.force_login(member_user)
    for_member = client.get(url).content.decode()

    assert reverse("alerts:list", args=[community.pk]) in for_referente
    assert reverse("alerts:list", args=[community.pk]) not in for_member


def test_the_plant_form_offers_site_orientation_and_planned_extension(client, community, referente):
    point = factories.make_connection_point(
        community, factories.make_membership(community).member, has_injection=True
    )
    plant = factories.make_plant(point)
    client.force_login(referente)

    page = client.get(reverse("plants:edit", args=[plant.pk])).content.decode()

    for field in ("latitude", "longitude", "tilt_deg", "azimuth_deg", "planned_extension_kw"):
        assert f'name="{field}"' in page


def test_a_latitude_without_a_longitude_is_refused_on_the_longitude(client, community, referente):
    point = factories.make_connection_point(
        community, factories.make_membership(community).member, has_injection=True
    )
    plant = factories.make_plant(point)
    client.force_login(referente)
    form = client.get(reverse("plants:edit", args=[plant.pk])).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(latitude="45.43", entry_into_service_date="2024-11-05")

    response = client.post(reverse("plants:edit", args=[plant.pk]), data)

    assert response.status_code == 400
    assert "longitude" in response.context["form"].errors
    plant.refresh_from_db()
    assert plant.latitude is None
