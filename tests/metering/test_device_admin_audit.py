"""Device actions in the Django admin are audited as on the devices page and the API."""

from __future__ import annotations

import contextlib

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from cer.audit.models import AuditEntry
from cer.metering import broker, devices
from cer.metering.models import DeviceStatus
from tests.metering.conftest import make_device


@pytest.fixture
def fake_broker(monkeypatch):
    @contextlib.contextmanager
    def session(_session):
        yield object()

    monkeypatch.setattr(devices, "_session", session)
    for name in ("set_device_password", "disable_device", "enable_device", "delete_device_account"):
        monkeypatch.setattr(broker, name, lambda **kw: None)


@pytest.mark.parametrize(
    ("action", "code", "status"),
    [
        ("disable", "metering.device.disabled", DeviceStatus.DISABLED),
        ("rotate_secret", "metering.device.rotated", DeviceStatus.ACTIVE),
        ("delete_accounts", "metering.device.deleted", DeviceStatus.DELETED),
    ],
)
def test_a_device_action_in_the_admin_writes_an_audit_entry(
    point, fake_broker, action, code, status
):
    device = make_device(point)
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456!")
    client = Client()
    client.force_login(admin)

    response = client.post(
        reverse("admin:metering_device_changelist"),
        {"action": action, "_selected_action": [device.pk]},
    )

    device.refresh_from_db()
    entry = AuditEntry.objects.get(code=code)
    assert response.status_code == 302
    assert device.status == status
    assert entry.actor_id == admin.pk
    assert entry.community_id == point.configuration.community_id
