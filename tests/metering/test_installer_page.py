"""The installer's pages: the one-time sheet, the CA download, the connection indicator,
and the community's list of rejected messages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from cer.metering import devices
from cer.metering.models import (
    CounterChannel,
    CounterSample,
    DeviceKind,
    IntervalEnergy,
    RejectedMessage,
)
from tests.metering.conftest import make_device

pytestmark = pytest.mark.django_db

SECRET = "s3cret-shown-once-Zq8xKw2pLm"
RECEIVED = dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC)


@pytest.fixture
def broker_settings(settings):
    settings.MQTT_PUBLIC_HOST = "mqtt.cer-example.it"
    settings.MQTT_PUBLIC_PORT = 8883
    settings.MQTT_CA_FILE = ""
    return settings


def _register(client, community, point, monkeypatch, *, kind: str, name: str):
    """Post the registration form; the broker account is replaced by a plain device row."""
    device = make_device(point, kind=kind, name=name)

    def register_device(**_arguments):
        return devices.DeviceSecret(device=device, secret=SECRET)

    monkeypatch.setattr(devices, "register_device", register_device)
    url = reverse("metering:device_list", kwargs={"community_id": community.pk})
    response = client.post(url, {"point": point.pk, "name": name, "kind": kind, "meter_channel": 0})
    return device, response


def test_the_one_time_page_of_a_shelly_tells_every_setting(
    client, community, point, referente, broker_settings, monkeypatch
):
    client.force_login(referente)

    device, response = _register(
        client, community, point, monkeypatch, kind=DeviceKind.SHELLY_EM, name="pro3em"
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "<code>mqtt.cer-example.it:8883</code>" in text
    assert f"<code>{device.mqtt_username}</code>" in text
    assert f"<code>{SECRET}</code>" in text
    assert f"<code>{device.topic_prefix}</code>" in text
    assert "data-print" in text


def test_the_one_time_page_of_a_tasmota_gives_the_exact_commands(
    client, community, point, referente, broker_settings, monkeypatch
):
    client.force_login(referente)

    device, response = _register(
        client, community, point, monkeypatch, kind=DeviceKind.TASMOTA, name="sml-reader"
    )

    text = response.content.decode()
    full_topic = f"FullTopic cer/{point.configuration_id}/{point.pod}/%topic%/%prefix%/"
    assert "<code>SetOption52 1</code>" in text
    assert f"<code>{full_topic}</code>" in text
    assert "<code>Topic sml-reader</code>" in text
    assert "<code>MqttHost mqtt.cer-example.it</code>" in text
    assert "<code>MqttPort 8883</code>" in text
    assert f"<code>MqttUser {device.mqtt_username}</code>" in text
    assert f"<code>MqttPassword {SECRET}</code>" in text
    assert "<code>SetOption4 0</code>" in text
    assert "<code>TelePeriod 60</code>" in text
    assert f"Backlog Topic sml-reader; {full_topic}; SetOption52 1; SetOption4 0;" in text


def test_the_tasmota_topic_is_the_one_the_platform_accepts(point):
    from cer.metering import ingest

    device = make_device(point, kind=DeviceKind.TASMOTA, name="plug")
    # What Tasmota publishes with the page's FullTopic, %topic% = plug and %prefix% = tele.
    topic = f"cer/{point.configuration_id}/{point.pod}/%topic%/%prefix%/SENSOR"
    topic = topic.replace("%topic%", "plug").replace("%prefix%", "tele")

    address = ingest.parse_topic(topic)

    assert address.prefix == device.topic_prefix
    assert address.suffix == "tele/SENSOR"


def test_the_secret_is_on_the_one_time_render_only(
    client, community, point, referente, broker_settings, monkeypatch
):
    client.force_login(referente)
    device, created = _register(
        client, community, point, monkeypatch, kind=DeviceKind.TASMOTA, name="later"
    )

    later = client.get(reverse("metering:device_detail", kwargs={"device_id": device.pk}))

    assert SECRET in created.content.decode()
    assert later.status_code == 200
    assert device.mqtt_username in later.content.decode()
    assert SECRET not in later.content.decode()
    # The page is in Italian: the placeholder reads <segreto>.
    assert "MqttPassword &lt;segreto&gt;" in later.content.decode()


def test_the_ca_certificate_is_not_found_without_a_ca_file(client, community, referente, settings):
    settings.MQTT_CA_FILE = ""
    client.force_login(referente)

    response = client.get(
        reverse("metering:mqtt_ca_certificate", kwargs={"community_id": community.pk})
    )

    assert response.status_code == 404


def test_the_ca_certificate_is_downloaded_as_an_attachment(
    client, community, referente, settings, tmp_path
):
    pem = b"-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAO\n-----END CERTIFICATE-----\n"
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(pem)
    settings.MQTT_CA_FILE = str(ca_file)
    client.force_login(referente)

    response = client.get(
        reverse("metering:mqtt_ca_certificate", kwargs={"community_id": community.pk})
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == pem


def test_with_a_ca_file_the_page_offers_tls_on_8883_and_the_download(
    client, community, point, referente, settings, tmp_path
):
    settings.MQTT_CA_FILE = str(tmp_path / "ca.crt")
    del settings.MQTT_PUBLIC_PORT
    device = make_device(point, kind=DeviceKind.SHELLY_EM)
    client.force_login(referente)

    text = client.get(
        reverse("metering:device_detail", kwargs={"device_id": device.pk})
    ).content.decode()

    assert ":8883</code>" in text
    assert reverse("metering:mqtt_ca_certificate", kwargs={"community_id": community.pk}) in text
    assert "User TLS" in text


def _connection(client, device) -> dict:
    with translation.override("en"):
        url = reverse("metering:device_connection", kwargs={"device_id": device.pk})
        return client.get(url).json()


def test_the_indicator_waits_then_turns_connected_after_a_counter_sample(client, point, referente):
    device = make_device(point, kind=DeviceKind.TASMOTA)
    client.force_login(referente)

    before = _connection(client, device)
    CounterSample.objects.create(
        device=device,
        channel=CounterChannel.WITHDRAWN,
        measured_at=RECEIVED,
        value_wh=1_234_567,
        received_at=RECEIVED,
    )
    after = _connection(client, device)

    assert before == {
        "connected": False,
        "last_message_at": None,
        "label": "Waiting for the first message",
    }
    assert after["connected"] is True
    assert after["last_message_at"] == RECEIVED.isoformat()
    assert after["label"].startswith("Connected: last message at 2025-10-26 02:30:00 +0100")


def test_the_indicator_turns_connected_after_an_interval(client, point, referente):
    device = make_device(point)
    other = make_device(point)
    IntervalEnergy.objects.create(
        connection_point=point,
        device=other,
        start_at=RECEIVED - dt.timedelta(minutes=15),
        end_at=RECEIVED,
        injected_wh=0,
        withdrawn_wh=120,
        received_at=RECEIVED,
    )
    client.force_login(referente)

    assert _connection(client, device)["connected"] is False

    IntervalEnergy.objects.create(
        connection_point=point,
        device=device,
        start_at=RECEIVED,
        end_at=RECEIVED + dt.timedelta(minutes=15),
        injected_wh=0,
        withdrawn_wh=80,
        received_at=RECEIVED + dt.timedelta(minutes=16),
    )

    assert _connection(client, device)["connected"] is True


def _reject(point, device, *, reason: str, field: str = "payload", minute: int = 0):
    return RejectedMessage.objects.create(
        channel="MQTT",
        topic=f"{device.topic_prefix}/tele/SENSOR",
        payload=b'{"Time":"2025-10-26T02:30:00"}',
        received_at=RECEIVED + dt.timedelta(minutes=minute),
        field=field,
        reason=reason,
        configuration=point.configuration,
        device=device,
    )


def _rejected_page(client, community, **query) -> str:
    with translation.override("en"):
        url = reverse("metering:rejected_list", kwargs={"community_id": community.pk})
        response = client.get(url, query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_rejected_list_filters_by_device_and_by_reason(client, community, point, referente):
    tasmota = make_device(point, kind=DeviceKind.TASMOTA, name="tasmota")
    shelly = make_device(point, kind=DeviceKind.SHELLY_EM, name="shelly")
    _reject(
        point,
        tasmota,
        field="Time",
        reason="'2025-10-26T02:30:00' has no UTC offset (set SetOption52 1 on the device)",
    )
    _reject(point, shelly, reason="not JSON: Expecting value at line 1 column 1")
    _reject(point, shelly, field="", reason="something no pattern knows")
    client.force_login(referente)

    by_device = _rejected_page(client, community, device=tasmota.pk)
    by_time = _rejected_page(client, community, reason="TIME")
    by_format = _rejected_page(client, community, reason="FORMAT")
    by_other = _rejected_page(client, community, reason="OTHER")
    shelly_time = _rejected_page(client, community, device=shelly.pk, reason="TIME")

    assert "has no UTC offset" in by_device and "Expecting value" not in by_device
    assert "has no UTC offset" in by_time and "Expecting value" not in by_time
    assert "Expecting value" in by_format and "has no UTC offset" not in by_format
    assert "something no pattern knows" in by_other and "Expecting value" not in by_other
    assert "No rejected messages." in shelly_time


def test_the_rejected_list_shows_reasons_in_the_readers_language(
    client, community, point, referente, monkeypatch
):
    device = make_device(point, kind=DeviceKind.TASMOTA)
    _reject(point, device, field="Time", reason="'2025-10-26T02:30:00' has no UTC offset")
    _reject(point, device, field="", reason="something no pattern knows")
    client.force_login(referente)
    # A catalogue that marks every translated text shows which texts went through gettext.
    monkeypatch.setattr(translation._trans, "gettext", lambda message: f"[it] {message}")

    response = client.get(reverse("metering:rejected_list", kwargs={"community_id": community.pk}))

    text = response.content.decode().replace("&#x27;", "'")
    assert "<td>[it] '2025-10-26T02:30:00' has no UTC offset</td>" in text
    assert "<td>something no pattern knows</td>" in text


def test_the_rejected_list_pages_fifty_at_a_time(client, community, point, referente):
    device = make_device(point)
    for minute in range(51):
        _reject(
            point, device, reason=f"payload of {1000 + minute} bytes exceeds 262144", minute=minute
        )
    client.force_login(referente)

    first = _rejected_page(client, community, reason="FORMAT")
    second = _rejected_page(client, community, reason="FORMAT", page=2)

    assert first.count("<tr>") == 51  # the header row and 50 messages
    assert "payload of 1050 bytes" in first and "payload of 1000 bytes" not in first
    assert second.count("<tr>") == 2
    assert "payload of 1000 bytes" in second
    assert "reason=FORMAT&amp;page=2" in first


def test_the_devices_page_links_each_device_to_its_page(client, community, point, referente):
    device = make_device(point)
    client.force_login(referente)

    text = client.get(
        reverse("metering:device_list", kwargs={"community_id": community.pk})
    ).content.decode()

    assert reverse("metering:device_detail", kwargs={"device_id": device.pk}) in text


@pytest.mark.parametrize("persona", ["member_user", "outsider"])
def test_members_and_outsiders_are_refused_every_installer_view(
    client, community, point, persona, request, settings, tmp_path
):
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n")
    settings.MQTT_CA_FILE = str(ca_file)
    device = make_device(point)
    client.force_login(request.getfixturevalue(persona))
    urls = [
        reverse("metering:device_detail", kwargs={"device_id": device.pk}),
        reverse("metering:device_connection", kwargs={"device_id": device.pk}),
        reverse("metering:mqtt_ca_certificate", kwargs={"community_id": community.pk}),
        reverse("metering:rejected_list", kwargs={"community_id": community.pk}),
    ]

    statuses = [client.get(url).status_code for url in urls]

    assert statuses == [403, 403, 403, 403]


def test_a_missing_device_is_not_found(client, referente):
    client.force_login(referente)

    response = client.get(reverse("metering:device_connection", kwargs={"device_id": 999_999}))

    assert response.status_code == 404
