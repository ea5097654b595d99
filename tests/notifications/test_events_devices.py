"""Device accounts created or disabled tell the community's managers, end to end through
the devices page (the broker's side is stood in for: tests/metering/test_broker.py drives
the real one; here what matters is who is told)."""

from __future__ import annotations

import contextlib

import pytest
from django.urls import reverse

from cer.metering import broker
from cer.metering import devices as device_accounts
from cer.metering.models import Device, DeviceKind
from cer.notifications.delivery import deliver_due
from cer.notifications.models import Delivery, Notification
from tests import factories
from tests.members.smtp import body_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet_broker(monkeypatch):
    """A broker that accepts every command."""

    @contextlib.contextmanager
    def session(_session=None):
        yield None

    monkeypatch.setattr(device_accounts, "_session", session)
    for name in ("create_device_account", "disable_device", "enable_device"):
        monkeypatch.setattr(broker, name, lambda **kwargs: None)


def test_a_device_created_and_disabled_on_the_page_tells_the_managers(
    client, community, quiet_broker, smtp_server, django_capture_on_commit_callbacks
):
    referente = factories.make_user_with_role(community, role="REFERENTE", username="ref")
    referente.email = "ref@example.org"
    referente.save()
    holder = factories.make_membership(community).member
    point = factories.make_connection_point(community, holder)
    client.force_login(referente)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("metering:device_list", kwargs={"community_id": community.pk}),
            {"point": point.pk, "name": "shelly", "kind": DeviceKind.SHELLY_EM, "meter_channel": 0},
        )
    device = Device.objects.get(name="shelly")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("metering:device_action", kwargs={"community_id": community.pk}),
            {"device": device.pk, "action": "disable"},
        )

    notices = list(Notification.objects.filter(user=referente).order_by("pk"))
    assert [n.topic for n in notices] == ["metering.device.created", "metering.device.disabled"]
    assert notices[0].link == f"/metering/devices/{device.pk}/"
    # Ordinary topics: both go out in the referente's daily digest, as one e-mail.
    deliver_due(max(d.next_attempt_at for d in Delivery.objects.all()))
    (message,) = smtp_server.messages
    assert message["To"] == "ref@example.org"
    text = body_of(message)
    assert f"Dispositivo shelly creato per {point.pod}" in text
    assert f"Dispositivo shelly di {point.pod} disattivato" in text
    # A plain member of the community hears nothing.
    assert not Notification.objects.exclude(user=referente).exists()
