"""A referente registers a device in Chromium and follows the one-time installer page.

The test reads the broker's host and port, the username, the secret and the topic from
the page as an installer would, publishes the device's first message with paho using
exactly those values against the real Mosquitto (scripts/services.sh), with the
ingestion worker running, and waits for the page's connection indicator to turn green.
The test broker listens in plain MQTT; the TLS variant of the page (port 8883 and the
CA certificate to download) is followed separately, without a connection.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings

from cer.metering import broker
from cer.metering import devices as device_accounts
from cer.metering.models import CounterSample, Device, DeviceKind
from cer.metering.worker import IngestWorker
from cercalc.periods import ROME
from tests import factories
from tests.e2e.login import log_in

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("MQTT_ADMIN_PASSWORD"),
        reason="needs the Mosquitto with dynamic security started by scripts/services.sh",
    ),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the live server, the worker and the test share the database: PostgreSQL only",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.slow,
]

WAIT_S = 20.0
PEM = b"-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAOcercollettiva\n-----END CERTIFICATE-----\n"


@pytest.fixture
def referente(community):
    return factories.make_user_with_role(community, role="REFERENTE", username="referente-e2e")


@pytest.fixture
def point(community):
    holder = factories.make_membership(community).member
    return factories.make_connection_point(community, holder, has_injection=True)


@pytest.fixture
def plain_broker(settings):
    """The page names the test broker as installers must type it: plain MQTT."""
    settings.MQTT_CA_FILE = ""
    settings.MQTT_PUBLIC_HOST = settings.MQTT_HOST
    settings.MQTT_PUBLIC_PORT = settings.MQTT_PORT


@pytest.fixture
def running_worker():
    stop = threading.Event()
    client_id = f"cer-ingest-e2e-{uuid.uuid4().hex[:8]}"
    worker = IngestWorker(
        config=broker.ingest_config(), stop=stop, client_id=client_id, flush_interval_s=0.05
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    assert worker.subscribed.wait(WAIT_S)
    yield worker
    stop.set()
    thread.join(WAIT_S)
    config = broker.ingest_config()
    forget = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    broker.configure_client(forget, config)
    forget.connect(config.host, config.port)
    forget.loop_start()
    forget.disconnect()
    forget.loop_stop()


@pytest.fixture
def registered_accounts(settings):
    """Delete the broker accounts of the devices the test registered through the page."""
    yield
    settings.MQTT_CA_FILE = ""  # the accounts live on the plain test broker
    with broker.DynsecSession() as session:
        for device in Device.objects.all():
            broker.delete_device_account(
                username=device.mqtt_username, role=device.broker_role, session=session
            )


def _register(page, live_server, community, point, *, name: str, kind: str) -> None:
    page.goto(f"{live_server.url}/metering/communities/{community.pk}/devices/")
    page.select_option("#id_point", str(point.pk))
    page.fill("#id_name", name)
    page.select_option("#id_kind", kind)
    with page.expect_navigation():
        page.click("main form.card button[type=submit]")


def _sheet(page) -> dict[str, str]:
    """The broker summary of the installer sheet, in the order the page lists it."""
    values = page.locator(".installer dl.summary dd")
    return {
        "host": values.nth(0).inner_text().strip(),
        "port": values.nth(1).inner_text().strip(),
        "tls": values.nth(2).inner_text().strip(),
        "username": values.nth(3).inner_text().strip(),
        "secret": values.nth(4).inner_text().strip(),
        "prefix": values.nth(5).inner_text().strip(),
    }


def _publish_first_message(sheet: dict[str, str], topic: str, payload: dict) -> None:
    """What the installed device does: connect with the sheet's values and publish."""
    device = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"installed-{uuid.uuid4().hex[:8]}",
        protocol=mqtt.MQTTProtocolVersion.MQTTv311,
    )
    device.username_pw_set(sheet["username"], sheet["secret"])
    connected = threading.Event()
    device.on_connect = lambda client, userdata, flags, code, properties: connected.set()
    device.connect(sheet["host"], int(sheet["port"]), keepalive=30)
    device.loop_start()
    try:
        assert connected.wait(WAIT_S), "the broker refused the sheet's credentials"
        info = device.publish(topic, json.dumps(payload), qos=1)
        info.wait_for_publish(WAIT_S)
        assert info.is_published()
    finally:
        device.disconnect()
        device.loop_stop()


def _turns_green(page) -> None:
    indicator = page.locator(".installer .connection-status")
    # The page asks the server every 5 seconds.
    indicator.and_(page.locator(".connected")).wait_for(timeout=3 * 5_000 + 5_000)
    colour = indicator.evaluate("element => getComputedStyle(element).backgroundColor")
    assert colour == "rgb(220, 252, 231)"  # the green of .connection-status.connected


def test_a_referente_connects_a_tasmota_by_following_the_one_time_page(
    page,
    live_server,
    community,
    point,
    referente,
    plain_broker,
    running_worker,
    registered_accounts,
):
    log_in(page, live_server, "referente-e2e")
    _register(page, live_server, community, point, name="contatore", kind=DeviceKind.TASMOTA)

    sheet = _sheet(page)
    indicator = page.locator(".installer .connection-status")
    assert "waiting" in indicator.get_attribute("class")
    assert (sheet["host"], sheet["port"]) == (settings.MQTT_HOST, str(settings.MQTT_PORT))
    device = Device.objects.get(name="contatore")
    assert sheet["username"] == device.mqtt_username
    assert sheet["prefix"] == device.topic_prefix
    commands = page.locator(".installer pre code").all_inner_texts()
    assert commands[0].startswith(
        f"Backlog MqttHost {sheet['host']}; MqttPort {sheet['port']}; "
        f"MqttUser {sheet['username']}; MqttPassword {sheet['secret']}"
    )
    assert "SetOption52 1" in commands[1]
    # Tasmota publishes telemetry on FullTopic with %topic% = Topic and %prefix% = tele.
    topic_name = re.search(r"Backlog Topic ([^;]+);", commands[1]).group(1)
    full_topic = re.search(r"FullTopic ([^;]+);", commands[1]).group(1)
    telemetry = full_topic.replace("%topic%", topic_name).replace("%prefix%", "tele") + "SENSOR"

    now = dt.datetime.now(ROME).replace(microsecond=0)
    _publish_first_message(
        sheet,
        telemetry,
        {"Time": now.isoformat(), "ENERGY": {"Total": 1234.567, "TotalReturn": 98.765}},
    )

    _turns_green(page)
    assert CounterSample.objects.filter(device=device).count() == 2  # withdrawn and injected


def test_a_referente_connects_a_shelly_by_following_the_one_time_page(
    page,
    live_server,
    community,
    point,
    referente,
    plain_broker,
    running_worker,
    registered_accounts,
):
    log_in(page, live_server, "referente-e2e")
    _register(page, live_server, community, point, name="pro3em", kind=DeviceKind.SHELLY_EM)

    sheet = _sheet(page)
    steps = page.locator(".installer ol li code").all_inner_texts()
    assert f"{sheet['host']}:{sheet['port']}" in steps
    assert sheet["prefix"] in steps  # the MQTT prefix to type
    # The Shelly publishes its RPC notifications on <MQTT prefix>/events/rpc.
    _publish_first_message(
        sheet,
        f"{sheet['prefix']}/events/rpc",
        {
            "src": "shellypro3em-c8f09e8a1b2c",
            "method": "NotifyStatus",
            "params": {
                "ts": time.time(),
                "emdata:0": {"id": 0, "total_act": 3600.5, "total_act_ret": 4100.99},
            },
        },
    )

    _turns_green(page)


def test_with_tls_the_page_gives_port_8883_and_the_ca_certificate_to_download(
    page, live_server, community, point, referente, settings, tmp_path, registered_accounts
):
    # Registered on the plain test broker; the page is then read as a TLS installation
    # shows it (the platform manages accounts over the same TLS, which the test broker
    # does not offer).
    account = device_accounts.register_device(
        point=point, name="tls-meter", kind=DeviceKind.SHELLY_EM, now=dt.datetime.now(dt.UTC)
    )
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(PEM)
    settings.MQTT_CA_FILE = str(ca_file)
    settings.MQTT_PUBLIC_HOST = "mqtt.cer-example.it"
    del settings.MQTT_PUBLIC_PORT
    log_in(page, live_server, "referente-e2e")
    page.goto(f"{live_server.url}/metering/devices/{account.device.pk}/")

    sheet = _sheet(page)
    with page.expect_download() as download:
        page.locator(".installer dl.summary a").click()

    assert (sheet["host"], sheet["port"]) == ("mqtt.cer-example.it", "8883")
    assert sheet["username"] == account.device.mqtt_username
    assert account.secret not in page.content()
    with open(download.value.path(), "rb") as downloaded:
        assert downloaded.read() == PEM
