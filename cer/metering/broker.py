"""Mosquitto's dynamic-security plugin, driven over MQTT: device accounts and their roles.

Commands go to `$CONTROL/dynamic-security/v1` as JSON; the plugin answers on
`$CONTROL/dynamic-security/v1/response`, echoing each command's correlationData,
which is how an answer is matched to its question.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from django.conf import settings

logger = logging.getLogger(__name__)

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"


class BrokerError(Exception):
    """The broker could not be reached or refused a command."""


class BrokerCommandFailed(BrokerError):
    def __init__(self, command: str, error: str) -> None:
        super().__init__(f"{command}: {error}")
        self.command = command
        self.error = error


@dataclass(frozen=True)
class BrokerConfig:
    """Where the broker listens and the account the platform uses to reach it."""

    host: str
    port: int
    username: str
    password: str
    ca_file: str = ""
    timeout_s: float = 10.0


def _setting(name: str, default: str) -> str:
    return str(getattr(settings, name, None) or os.environ.get(name, default))


def admin_config() -> BrokerConfig:
    """Return the dynamic-security admin account from settings or the environment."""
    return BrokerConfig(
        host=_setting("MQTT_HOST", "127.0.0.1"),
        port=int(_setting("MQTT_PORT", "1883")),
        username=_setting("MQTT_ADMIN_USER", "cer-admin"),
        password=_setting("MQTT_ADMIN_PASSWORD", ""),
        ca_file=_setting("MQTT_CA_FILE", ""),
    )


def ingest_config() -> BrokerConfig:
    """Return the ingestion worker's account from settings or the environment."""
    return BrokerConfig(
        host=_setting("MQTT_HOST", "127.0.0.1"),
        port=int(_setting("MQTT_PORT", "1883")),
        username=_setting("MQTT_INGEST_USER", "cer-ingest"),
        password=_setting("MQTT_INGEST_PASSWORD", ""),
        ca_file=_setting("MQTT_CA_FILE", ""),
    )


def configure_client(client: mqtt.Client, config: BrokerConfig) -> None:
    """Set credentials and, when a CA file is configured, TLS on a paho client."""
    client.username_pw_set(config.username, config.password)
    if config.ca_file:
        client.tls_set(ca_certs=config.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)


class DynsecSession:
    """One connection to the broker as the dynamic-security admin; use it as a context."""

    def __init__(self, config: BrokerConfig | None = None) -> None:
        self.config = config or admin_config()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"cer-admin-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTProtocolVersion.MQTTv5,
        )
        configure_client(self._client, self.config)
        self._lock = threading.Lock()
        self._answers: dict[str, dict[str, Any]] = {}
        self._arrived = threading.Condition(self._lock)
        self._ready = threading.Event()
        self._connect_error = ""
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def __enter__(self) -> DynsecSession:
        try:
            self._client.connect(self.config.host, self.config.port, keepalive=30)
        except OSError as error:
            raise BrokerError(
                f"cannot reach {self.config.host}:{self.config.port}: {error}"
            ) from error
        self._client.loop_start()
        if not self._ready.wait(self.config.timeout_s) or self._connect_error:
            self.__exit__(None, None, None)
            raise BrokerError(self._connect_error or "no answer to CONNECT/SUBSCRIBE")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._connect_error = f"broker refused the admin account: {reason_code}"
            self._ready.set()
            return
        client.subscribe(RESPONSE_TOPIC, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            self._connect_error = "the admin account may not read the dynamic-security answers"
        self._ready.set()

    def _on_message(self, client, userdata, message) -> None:
        try:
            responses = json.loads(message.payload).get("responses", [])
        except (ValueError, AttributeError):
            logger.warning("unreadable dynamic-security answer: %r", message.payload[:200])
            return
        with self._arrived:
            for response in responses:
                self._answers[str(response.get("correlationData"))] = response
            self._arrived.notify_all()

    def execute(
        self, *commands: dict[str, Any], tolerate: frozenset[str] = frozenset()
    ) -> list[dict[str, Any]]:
        """Run commands in order, wait for every answer and return the answers in order.

        Errors whose text contains one of `tolerate` (e.g. "not found" when deleting)
        are logged, not raised. Raises BrokerCommandFailed for the first other error,
        BrokerError when the answers do not come within the timeout.
        """
        tagged = [{**command, "correlationData": uuid.uuid4().hex} for command in commands]
        info = self._client.publish(CONTROL_TOPIC, json.dumps({"commands": tagged}), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerError(f"cannot publish the command: {mqtt.error_string(info.rc)}")
        wanted = [command["correlationData"] for command in tagged]
        with self._arrived:
            arrived = self._arrived.wait_for(
                lambda: all(key in self._answers for key in wanted), self.config.timeout_s
            )
            answers = [self._answers.pop(key, None) for key in wanted]
        if not arrived:
            raise BrokerError("the dynamic-security plugin did not answer in time")
        for command, answer in zip(tagged, answers, strict=True):
            error = (answer or {}).get("error")
            if not error:
                continue
            if any(text in error.lower() for text in tolerate):
                logger.info("dynsec %s: %s (tolerated)", command["command"], error)
                continue
            raise BrokerCommandFailed(command["command"], error)
        return [answer or {} for answer in answers]


def device_acls(topic_prefix: str) -> list[dict[str, Any]]:
    """Return the ACLs of a device: publish and subscribe only under its own topic.

    Subscribing is allowed so that Tasmota and Shelly receive their commands under
    the same prefix; everything else stays at the plugin's default (deny).
    """
    return [
        {"acltype": "publishClientSend", "topic": f"{topic_prefix}/#", "allow": True},
        {"acltype": "subscribePattern", "topic": f"{topic_prefix}/#", "allow": True},
    ]


def create_device_account(
    *, username: str, password: str, role: str, topic_prefix: str, session: DynsecSession
) -> None:
    """Create the device's role and client; replace leftovers of an interrupted attempt."""
    session.execute(
        {"command": "deleteClient", "username": username},
        {"command": "deleteRole", "rolename": role},
        tolerate=frozenset({"not found"}),
    )
    session.execute(
        {"command": "createRole", "rolename": role, "acls": device_acls(topic_prefix)},
        {
            "command": "createClient",
            "username": username,
            "password": password,
            "roles": [{"rolename": role}],
        },
    )


def set_device_password(*, username: str, password: str, session: DynsecSession) -> None:
    """Replace the device's password and disconnect it, so the old secret stops at once.

    setClientPassword alone leaves an open connection alive: disabling and enabling
    the client makes the broker drop it.
    """
    session.execute(
        {"command": "setClientPassword", "username": username, "password": password},
        {"command": "disableClient", "username": username},
        {"command": "enableClient", "username": username},
    )


def disable_device(*, username: str, session: DynsecSession) -> None:
    """Refuse the device's connections from now on and drop the current one."""
    session.execute({"command": "disableClient", "username": username})


def enable_device(*, username: str, session: DynsecSession) -> None:
    session.execute({"command": "enableClient", "username": username})


def delete_device_account(*, username: str, role: str, session: DynsecSession) -> None:
    """Delete client and role; an account already gone is not an error."""
    session.execute(
        {"command": "deleteClient", "username": username},
        {"command": "deleteRole", "rolename": role},
        tolerate=frozenset({"not found"}),
    )


# --- reading the broker's accounts (for reconciliation) ------------------------------------


@dataclass(frozen=True)
class BrokerClient:
    """A dynamic-security client as the broker lists it."""

    username: str
    disabled: bool
    roles: tuple[str, ...]


@dataclass(frozen=True)
class BrokerRole:
    """A dynamic-security role and its ACLs as (acltype, topic, allow) triples."""

    rolename: str
    acls: frozenset[tuple[str, str, bool]]


def acl_triples(acls: list[dict[str, Any]]) -> frozenset[tuple[str, str, bool]]:
    """Return ACLs in the comparable form (acltype, topic, allow); priorities are not used."""
    return frozenset(
        (str(acl["acltype"]), str(acl["topic"]), bool(acl.get("allow", False))) for acl in acls
    )


def list_accounts(*, session: DynsecSession) -> tuple[list[BrokerClient], list[BrokerRole]]:
    """Return every client and every role the dynamic-security plugin holds."""
    clients_answer, roles_answer = session.execute(
        {"command": "listClients", "verbose": True, "count": -1, "offset": 0},
        {"command": "listRoles", "verbose": True, "count": -1, "offset": 0},
    )
    clients = [
        BrokerClient(
            username=str(client["username"]),
            disabled=bool(client.get("disabled", False)),
            roles=tuple(str(role["rolename"]) for role in client.get("roles", [])),
        )
        for client in clients_answer.get("data", {}).get("clients", [])
    ]
    roles = [
        BrokerRole(rolename=str(role["rolename"]), acls=acl_triples(role.get("acls", [])))
        for role in roles_answer.get("data", {}).get("roles", [])
    ]
    return clients, roles


def repair_role(
    *,
    username: str,
    role: BrokerRole | None,
    rolename: str,
    topic_prefix: str,
    client_has_role: bool,
    session: DynsecSession,
) -> None:
    """Give the device's role exactly the device ACLs, and give the role to the client.

    ACLs are removed and added one by one rather than by recreating the role, so the
    client keeps its role, and its connection, throughout.
    """
    wanted = device_acls(topic_prefix)
    commands: list[dict[str, Any]] = []
    if role is None:
        commands.append({"command": "createRole", "rolename": rolename, "acls": wanted})
    else:
        wanted_triples = acl_triples(wanted)
        for acltype, topic, _allow in sorted(role.acls - wanted_triples):
            commands.append(
                {
                    "command": "removeRoleACL",
                    "rolename": rolename,
                    "acltype": acltype,
                    "topic": topic,
                }
            )
        for acl in wanted:
            if (acl["acltype"], acl["topic"], acl["allow"]) not in role.acls:
                commands.append({"command": "addRoleACL", "rolename": rolename, **acl})
    if not client_has_role:
        commands.append({"command": "addClientRole", "username": username, "rolename": rolename})
    if commands:
        session.execute(*commands)
