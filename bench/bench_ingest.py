"""Benchmark: MQTT readings end to end, devices → Mosquitto → ingest_mqtt → PostgreSQL.

1,000 simulated devices, each with its own dynamic-security account and connection
point, publish one-minute interval readings in the platform's JSON format at QoS 1.
They are cheap so that the platform gets the two cores: one publisher process (see
--publishers) holds a raw socket per device account and writes prepared PUBLISH packets
(the same CONNECT, QoS 1 PUBLISH and PINGREQ packets a paho client sends). The same load
runs twice:

- `manage.py ingest_mqtt --workers 2` (two worker processes sharing the stream through an
  MQTT 5 shared subscription, the scaled-out deployment); one of the two is killed with
  SIGKILL twice, and the command restarts it;
- `manage.py ingest_mqtt` (one worker, the default deployment that `make run` starts),
  killed with SIGKILL twice and restarted at once.

The clock starts once every publisher has connected its devices (connecting a thousand
accounts is not ingestion) and all of them start publishing together.

Prints:
  bench: ingest_mqtt_readings_per_s_2_workers  readings stored per second, two workers
  bench: ingest_lost_readings_2_workers        acknowledged − stored − rejected (target 0)
  bench: ingest_double_counted_wh_2_workers    hourly totals − stored interval energy (0)
  bench: ingest_mqtt_readings_per_s  the default deployment's figure: one worker,
                                     first publish to last commit
  bench: ingest_lost_readings        acknowledged by the broker − stored − rejected (target 0)
  bench: ingest_double_counted_wh    hourly totals − stored interval energy (target 0)
  bench: ingest_worker_scaling_ratio  the two workers' rate ÷ the one worker's

Runs in its own database next to DATABASE_URL's (created and dropped here) and starts
its own Mosquitto on 127.0.0.1 unless MQTT_ADMIN_PASSWORD names a running one.

    DATABASE_URL=postgres://... .venv/bin/python bench/bench_ingest.py [--seconds 40] [--workers 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchdata import make_community, make_company_holder, throwaway_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_SUFFIX = "_bench_ingest"
WITHDRAWN_WH = 50  # per one-minute reading: 3 kW, well inside the 6 kW contracted
# Devices report the present: the stream starts at midnight UTC twenty days ago, the
# devices having been registered the day before.
FIRST_MINUTE = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) - (
    dt.timedelta(days=20)
)
WORKER_ID = "cer-ingest-bench"
# How often the wait for the last commit counts the stored readings [s]: the end of the
# run is known this late at most, which lowers the rate by under 1 % over a 40 s run.
POLL_S = 0.25
SHARE_GROUP = "cer-ingest-bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=40, help="publishing time of each run (40)"
    )
    parser.add_argument("--devices", type=int, default=1000, help="simulated devices (1,000)")
    parser.add_argument("--publishers", type=int, default=1, help="publisher processes (1)")
    # Above the two workers' target (8,000/s), so that the load does not cap the figure.
    parser.add_argument(
        "--rate", type=int, default=10000, help="offered load, messages per second (10,000)"
    )
    parser.add_argument("--kills", type=int, default=2, help="SIGKILLs of a worker per run (2)")
    parser.add_argument(
        "--workers", type=int, default=2, help="workers of the scaled-out run (2); 0: skip it"
    )
    parser.add_argument("--publisher", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        _publish(Path(args.publisher))
        return
    broker = None if os.environ.get("MQTT_ADMIN_PASSWORD") else _Broker()
    try:
        with throwaway_database(BENCH_SUFFIX):
            _run(args)
    finally:
        if broker:
            broker.stop()


class _Broker:
    """A throw-away Mosquitto with the dynamic-security plugin, like scripts/services.sh."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="bench-mosquitto-"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        admin_password = secrets.token_urlsafe(18)
        plugin = next(Path("/usr/lib").glob("**/mosquitto_dynamic_security.so"))
        state = self.folder / "dynsec.json"
        subprocess.run(
            ["mosquitto_ctrl", "dynsec", "init", str(state), "cer-admin", admin_password],
            check=True,
            capture_output=True,
        )
        (self.folder / "mosquitto.conf").write_text(
            f"per_listener_settings false\nallow_anonymous false\n"
            f"listener {port} 127.0.0.1\nplugin {plugin}\nplugin_opt_config_file {state}\n"
            "persistence false\nmax_inflight_messages 5000\nmax_queued_messages 0\n"
            f"log_dest file {self.folder / 'mosquitto.log'}\n"
        )
        if os.geteuid() == 0:
            shutil.chown(self.folder, "mosquitto")
            for path in self.folder.iterdir():
                shutil.chown(path, "mosquitto")
        self.process = subprocess.Popen(
            ["/usr/sbin/mosquitto", "-c", str(self.folder / "mosquitto.conf")]
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        os.environ.update(
            MQTT_HOST="127.0.0.1",
            MQTT_PORT=str(port),
            MQTT_ADMIN_USER="cer-admin",
            MQTT_ADMIN_PASSWORD=admin_password,
            MQTT_INGEST_USER="cer-ingest-bench",
            MQTT_INGEST_PASSWORD=secrets.token_urlsafe(18),
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)
        shutil.rmtree(self.folder, ignore_errors=True)


def _run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    devices = _make_devices(args.devices)
    try:
        scaled = None
        if args.workers:
            scaled = _one_run(args, devices, workers=args.workers)
            _print(scaled, f"_{args.workers}_workers")
            _discard_sessions([f"{WORKER_ID}-{n}" for n in range(1, args.workers + 1)])
            _clear_readings()
        single = _one_run(args, devices, workers=0)
        _print(single, "")
        _discard_sessions([WORKER_ID])
        if scaled is not None:
            ratio = scaled.rate / single.rate if single.rate else float("nan")
            print(f"bench: ingest_worker_scaling_ratio {ratio:.2f} x")
    finally:
        _drop_accounts(devices)


@dataclass(frozen=True)
class _Result:
    rate: float
    lost: int
    double_wh: int
    published: int
    describe: str


def _print(result: _Result, suffix: str) -> None:
    print(f"bench: ingest_mqtt_readings_per_s{suffix} {result.rate:.0f} readings/s")
    print(f"bench: ingest_lost_readings{suffix} {result.lost} readings")
    print(f"bench: ingest_double_counted_wh{suffix} {result.double_wh} Wh")
    print(
        f"bench: ingest_published_readings{suffix} {result.published} readings ({result.describe})"
    )


def _one_run(args: argparse.Namespace, devices: list[dict], *, workers: int) -> _Result:
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    worker_log = folder / "worker.log"
    worker = _start_worker(worker_log, workers=workers)
    try:
        for number in range(max(1, workers)):
            _wait_for_log(worker_log, "subscribed to", start=0, count=number + 1)
        return _measure(args, devices, folder, worker_log, worker, workers=workers)
    finally:
        _stop_worker(worker)
        shutil.rmtree(folder, ignore_errors=True)


def _stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM (the workers record what they hold), SIGKILL should it not stop in time."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(180)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _clear_readings() -> None:
    """Empty the tables a run fills, so that the next run counts its own readings."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE metering_intervalenergy, metering_hourlyreading, metering_rejectedmessage"
        )
    connection.close()


def _discard_sessions(client_ids: list[str]) -> None:
    """End the workers' sessions, so that the broker queues nothing more for them."""
    import paho.mqtt.client as mqtt

    from cer.metering import broker

    config = broker.ingest_config()
    for client_id in client_ids:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
        )
        broker.configure_client(client, config)
        client.connect(config.host, config.port)
        client.loop_start()
        client.disconnect()
        client.loop_stop()


def _make_devices(count: int) -> list[dict]:
    """Create the points, device rows and broker accounts (and the worker's account)."""
    from cer.metering import broker
    from cer.metering.models import Device, DeviceKind
    from cer.plants.models import ConnectionPoint

    _community, configuration = make_community()
    holder = make_company_holder()
    points = ConnectionPoint.objects.bulk_create(
        [
            ConnectionPoint(
                pod=f"IT001E{80_000_000 + n:08d}",
                configuration=configuration,
                holder=holder,
                contracted_power_kw="6",
            )
            for n in range(count)
        ]
    )
    rows = Device.objects.bulk_create(
        [
            Device(
                connection_point=point,
                name="meter",
                kind=DeviceKind.OWN_JSON,
                mqtt_username=f"bench-{point.pod.lower()}",
                secret_hash="!",  # noqa: S106 - unusable hash: the bench uses MQTT only
                created_at=FIRST_MINUTE - dt.timedelta(days=1),
            )
            for point in points
        ]
    )
    devices = []
    with _admin_session() as session:
        session.execute(
            {"command": "deleteClient", "username": os.environ["MQTT_INGEST_USER"]},
            {"command": "deleteRole", "rolename": "cer-ingest-bench"},
            tolerate=frozenset({"not found"}),
        )
        session.execute(
            {
                "command": "createRole",
                "rolename": "cer-ingest-bench",
                "acls": [
                    {"acltype": "subscribePattern", "topic": "cer/#", "allow": True},
                    {"acltype": "subscribePattern", "topic": "$share/+/cer/#", "allow": True},
                ],
            },
            {
                "command": "createClient",
                "username": os.environ["MQTT_INGEST_USER"],
                "password": os.environ["MQTT_INGEST_PASSWORD"],
                "roles": [{"rolename": "cer-ingest-bench"}],
            },
        )
        for start in range(0, len(rows), 100):
            commands = []
            for device in rows[start : start + 100]:
                password = secrets.token_urlsafe(12)
                prefix = f"cer/{configuration.pk}/{device.connection_point.pod}/{device.name}"
                commands += [
                    {
                        "command": "createRole",
                        "rolename": device.broker_role,
                        "acls": broker.device_acls(prefix),
                    },
                    {
                        "command": "createClient",
                        "username": device.mqtt_username,
                        "password": password,
                        "roles": [{"rolename": device.broker_role}],
                    },
                ]
                devices.append(
                    {
                        "username": device.mqtt_username,
                        "password": password,
                        "topic": f"{prefix}/readings",
                        "role": device.broker_role,
                    }
                )
            session.execute(*commands)
    return devices


def _admin_session():
    """The admin session, patient: the plugin hashes a password per account it creates,
    and a hundred of them take well over its default 10 s on a loaded machine."""
    import dataclasses

    from cer.metering import broker

    return broker.DynsecSession(dataclasses.replace(broker.admin_config(), timeout_s=300.0))


def _drop_accounts(devices: list[dict]) -> None:

    with _admin_session() as session:
        for start in range(0, len(devices), 100):
            commands = []
            for device in devices[start : start + 100]:
                commands += [
                    {"command": "deleteClient", "username": device["username"]},
                    {"command": "deleteRole", "rolename": device["role"]},
                ]
            session.execute(*commands, tolerate=frozenset({"not found"}))


def _start_worker(log: Path, *, workers: int) -> subprocess.Popen:
    """`ingest_mqtt` alone (workers 0), or `ingest_mqtt --workers N`, which starts N."""
    command = [sys.executable, str(ROOT / "manage.py"), "ingest_mqtt", "--client-id", WORKER_ID]
    command += ["--share-group", SHARE_GROUP]
    if workers:
        command += ["--workers", str(workers)]
    with log.open("a") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "LOG_LEVEL": "INFO"},
        )


def _wait_for_log(
    log: Path, text: str, *, start: int, within_s: float = 180, count: int = 1
) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if log.read_text()[start:].count(text) >= count:
            return
        time.sleep(0.05)
    sys.exit(f"the worker did not log {text!r} within {within_s} s:\n{log.read_text()[-2000:]}")


def _handled() -> tuple[int, int]:
    """Readings stored and messages rejected so far: what the wait for the drain polls.

    Counting hundreds of thousands of rows costs the server tens of milliseconds, taken
    from the workers being measured: the wait polls this count alone, and only every
    POLL_S; the energy sums are read once, at the end (_counts).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM metering_intervalenergy), "
            "(SELECT count(*) FROM metering_rejectedmessage)"
        )
        stored, rejected = cursor.fetchone()
    return stored, rejected


def _counts() -> tuple[int, int, int]:
    from django.db import connection

    stored, rejected = _handled()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT coalesce(sum(withdrawn_wh), 0) FROM metering_hourlyreading) "
            "- (SELECT coalesce(sum(withdrawn_wh), 0) FROM metering_intervalenergy)"
        )
        (double_wh,) = cursor.fetchone()
    connection.close()
    return stored, rejected, double_wh


def _measure(args, devices, folder: Path, worker_log: Path, worker, *, workers: int) -> _Result:
    per_process = [devices[i :: args.publishers] for i in range(args.publishers)]
    publishers = []
    go = folder / "go"
    for index, share in enumerate(per_process):
        job = folder / f"publisher-{index}.json"
        job.write_text(
            json.dumps(
                {
                    "devices": share,
                    "seconds": args.seconds,
                    "rate": args.rate / args.publishers,
                    "host": os.environ.get("MQTT_HOST", "127.0.0.1"),
                    "port": int(os.environ.get("MQTT_PORT", "1883")),
                    "result": str(folder / f"publisher-{index}.result"),
                    "ready": str(folder / f"publisher-{index}.ready"),
                    "go": str(go),
                }
            )
        )
        publishers.append(
            subprocess.Popen([sys.executable, __file__, "--publisher", str(job)], cwd=ROOT)
        )
    ready_by = time.monotonic() + 120
    while not all((folder / f"publisher-{i}.ready").exists() for i in range(args.publishers)):
        if time.monotonic() > ready_by:
            sys.exit("the publishers did not connect their devices within 120 s")
        time.sleep(0.05)
    started = time.monotonic()
    go.touch()
    for kill in range(1, args.kills + 1):
        time.sleep(max(0.0, started + args.seconds * kill / (args.kills + 1) - time.monotonic()))
        offset = len(worker_log.read_text())
        if workers:
            # Kill the first of the command's workers; the command restarts it.
            pids = re.findall(
                rf"started worker {WORKER_ID}-1 \(pid (\d+)\)", worker_log.read_text()
            )
            os.kill(int(pids[-1]), signal.SIGKILL)
            _wait_for_log(worker_log, f"started worker {WORKER_ID}-1", start=offset)
        else:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            worker = _start_worker(worker_log, workers=0)
        _wait_for_log(worker_log, "connected to", start=offset)
    for process in publishers:
        process.wait()
    published = sum(
        json.loads(Path(folder / f"publisher-{i}.result").read_text())["acknowledged"]
        for i in range(args.publishers)
    )
    # Everything acknowledged by the broker must end up stored or rejected. A slow worker
    # is still draining its backlog, not losing it: wait while the count moves; only 30 s
    # without progress (or the hard bound) ends the wait of a broken run.
    deadline = time.monotonic() + max(1800.0, args.seconds * 10)
    stored, rejected = _handled()
    progress_at, handled = time.monotonic(), stored + rejected
    while stored + rejected < published and time.monotonic() < deadline:
        time.sleep(POLL_S)
        stored, rejected = _handled()
        if stored + rejected > handled:
            progress_at, handled = time.monotonic(), stored + rejected
        elif time.monotonic() - progress_at > 30:
            break
    finished = time.monotonic()
    time.sleep(1.0)  # anything counted twice would show up after the last commit
    stored, rejected, double_wh = _counts()
    _stop_worker(worker)
    return _Result(
        rate=stored / (finished - started),
        lost=published - stored - rejected,
        double_wh=double_wh,
        published=published,
        describe=f"{args.devices} devices, {max(1, workers)} worker(s), {args.seconds:g} s, "
        f"{args.rate} offered/s, {args.kills} SIGKILLs",
    )


def _publish(job_file: Path) -> None:
    """Publisher process: one MQTT 3.1.1 connection per device account, QoS 1.

    Devices are cheap here so that the platform gets the cores: each connection is a raw
    socket, every PUBLISH packet is put together from bytes prepared once (the topic per
    device, the payload per minute), and the broker's PUBACKs are counted as they come.
    The broker sees what a paho client would send: the same CONNECT, the same QoS 1
    PUBLISH packets with their packet identifiers, PINGREQs within the keep-alive.
    """
    job = json.loads(job_file.read_text())
    connections = [_Connection(device, job["host"], job["port"]) for device in job["devices"]]
    selector = selectors.DefaultSelector()
    for connection in connections:
        connection.read_connack()
        connection.sock.setblocking(False)
        selector.register(connection.sock, selectors.EVENT_READ, connection)
    Path(job["ready"]).touch()
    while not Path(job["go"]).exists():
        time.sleep(0.002)
    payloads: list[bytes] = []
    sent = 0
    started = time.monotonic()
    deadline = started + job["seconds"]
    turn = 0
    waiting: set[_Connection] = set()  # connections with bytes not yet written
    while time.monotonic() < deadline:
        budget = int((time.monotonic() - started) * job["rate"]) - sent
        for _ in range(max(0, min(budget, len(connections)))):
            connection = connections[turn % len(connections)]
            turn += 1
            while connection.minute >= len(payloads):
                payloads.append(_payload(len(payloads)))
            connection.publish(payloads[connection.minute])
            connection.minute += 1
            sent += 1
            waiting.add(connection)
        _pump(selector, connections, waiting, 0.002)
    drain_until = time.monotonic() + 60
    while sum(c.acknowledged for c in connections) < sent and time.monotonic() < drain_until:
        _pump(selector, connections, waiting, 0.01)
    for connection in connections:
        connection.close()
    acknowledged = sum(connection.acknowledged for connection in connections)
    Path(job["result"]).write_text(json.dumps({"sent": sent, "acknowledged": acknowledged}))


def _payload(minute: int) -> bytes:
    """The platform's JSON for one device's reading of one minute."""
    start = FIRST_MINUTE + dt.timedelta(minutes=minute)
    return (
        f'{{"start": "{start.isoformat()}", '
        f'"end": "{(start + dt.timedelta(minutes=1)).isoformat()}", '
        f'"withdrawn_wh": {WITHDRAWN_WH}}}'
    ).encode()


_PUBLISH_QOS1 = 0x32
_PUBACK = 0x40
_PINGREQ = b"\xc0\x00"
_KEEPALIVE_S = 60


def _length(size: int) -> bytes:
    """MQTT's variable-length encoding of a remaining length."""
    out = bytearray()
    while True:
        size, digit = divmod(size, 128)
        out.append(digit | (0x80 if size else 0))
        if not size:
            return bytes(out)


def _field(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


class _Connection:
    """One device's connection: CONNECT as paho sends it (3.1.1, clean session, 60 s)."""

    def __init__(self, device: dict, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = _field("MQTT") + bytes([4, 0xC2]) + _KEEPALIVE_S.to_bytes(2, "big")
        body += _field(device["username"]) + _field(device["username"])
        body += _field(device["password"])
        self.sock.sendall(b"\x10" + _length(len(body)) + body)
        self.topic = _field(device["topic"])
        self.minute = 0
        self.mid = 0
        self.acknowledged = 0
        self.outgoing = b""
        self.incoming = b""
        self.last_sent = time.monotonic()

    def read_connack(self) -> None:
        answer = b""
        while len(answer) < 4:
            chunk = self.sock.recv(4 - len(answer))
            if not chunk:
                sys.exit("the broker closed a device's connection")
            answer += chunk
        if answer[0] != 0x20 or answer[3] != 0:
            sys.exit(f"the broker refused a device's connection: {answer!r}")

    def publish(self, payload: bytes) -> None:
        self.mid = self.mid % 65535 + 1
        remaining = len(self.topic) + 2 + len(payload)
        self.outgoing += (
            bytes([_PUBLISH_QOS1])
            + _length(remaining)
            + self.topic
            + self.mid.to_bytes(2, "big")
            + payload
        )

    def flush(self, now: float) -> None:
        if not self.outgoing and now - self.last_sent > _KEEPALIVE_S / 2:
            self.outgoing = _PINGREQ
        if not self.outgoing:
            return
        try:
            written = self.sock.send(self.outgoing)
        except BlockingIOError:
            return
        self.outgoing = self.outgoing[written:]
        self.last_sent = now

    def read(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        if not data:
            sys.exit("the broker closed a device's connection")
        data = self.incoming + data
        position = 0
        while position + 2 <= len(data):
            size, shift, cursor = 0, 0, position + 1
            while cursor < len(data):
                byte = data[cursor]
                size |= (byte & 0x7F) << shift
                shift += 7
                cursor += 1
                if not byte & 0x80:
                    break
            else:
                break  # the length is not complete yet
            if cursor + size > len(data):
                break
            if data[position] == _PUBACK:
                self.acknowledged += 1
            position = cursor + size
        self.incoming = data[position:]

    def close(self) -> None:
        try:
            self.sock.setblocking(True)
            self.sock.sendall(self.outgoing + b"\xe0\x00")  # DISCONNECT
        except OSError:
            pass
        self.sock.close()


_pings_due = 0.0


def _pump(selector, connections, waiting: set, timeout: float) -> None:
    """Write what is waiting, a PINGREQ where the keep-alive asks (a look a second), read."""
    global _pings_due
    now = time.monotonic()
    if now >= _pings_due:
        _pings_due = now + 1.0
        waiting.update(c for c in connections if now - c.last_sent > _KEEPALIVE_S / 2)
    for connection in list(waiting):
        connection.flush(now)
        if not connection.outgoing:
            waiting.discard(connection)
    for key, _ in selector.select(timeout):
        key.data.read()


if __name__ == "__main__":
    main()
