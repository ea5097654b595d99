"""Benchmark: MQTT readings end to end, devices → Mosquitto → ingest_mqtt → PostgreSQL.

1,000 simulated devices, each with its own dynamic-security account and connection
point, publish one-minute interval readings in the platform's JSON format at QoS 1
from several publisher processes. The same load runs twice:

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
SHARE_GROUP = "cer-ingest-bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=40, help="publishing time of each run (40)"
    )
    parser.add_argument("--devices", type=int, default=1000, help="simulated devices (1,000)")
    parser.add_argument("--publishers", type=int, default=3, help="publisher processes (3)")
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


def _counts() -> tuple[int, int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(withdrawn_wh), 0) FROM metering_intervalenergy"
        )
        stored, interval_wh = cursor.fetchone()
        cursor.execute("SELECT coalesce(sum(withdrawn_wh), 0) FROM metering_hourlyreading")
        (hourly_wh,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM metering_rejectedmessage")
        (rejected,) = cursor.fetchone()
    connection.close()
    return stored, rejected, hourly_wh - interval_wh


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
    stored, rejected, _ = _counts()
    progress_at, handled = time.monotonic(), stored + rejected
    while stored + rejected < published and time.monotonic() < deadline:
        time.sleep(0.1)
        stored, rejected, _ = _counts()
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
    """Publisher process: one MQTT connection per device, one event loop, QoS 1."""
    import paho.mqtt.client as mqtt

    job = json.loads(job_file.read_text())
    acknowledged = 0
    connected = 0

    def on_publish(client, userdata, mid, reason_code, properties) -> None:
        nonlocal acknowledged
        acknowledged += 1

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        nonlocal connected
        connected += not reason_code.is_failure

    clients = []
    selector = selectors.DefaultSelector()
    for device in job["devices"]:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=device["username"],
            protocol=mqtt.MQTTProtocolVersion.MQTTv311,
        )
        client.username_pw_set(device["username"], device["password"])
        client.on_publish = on_publish
        client.on_connect = on_connect
        client.max_queued_messages_set(0)
        client.connect(job["host"], job["port"], keepalive=60)
        selector.register(client.socket(), selectors.EVENT_READ, client)
        clients.append([client, device["topic"], 0])
    connect_by = time.monotonic() + 60
    while connected < len(clients) and time.monotonic() < connect_by:
        _pump(selector, clients, 0.01)
    Path(job["ready"]).touch()
    while not Path(job["go"]).exists():
        _pump(selector, clients, 0.01)
    sent = 0
    started = time.monotonic()
    deadline = started + job["seconds"]
    turn = 0
    while time.monotonic() < deadline:
        budget = int((time.monotonic() - started) * job["rate"]) - sent
        for _ in range(max(0, min(budget, len(clients)))):
            entry = clients[turn % len(clients)]
            turn += 1
            client, topic, minute = entry
            entry[2] += 1
            start = FIRST_MINUTE + dt.timedelta(minutes=minute)
            payload = (
                f'{{"start": "{start.isoformat()}", '
                f'"end": "{(start + dt.timedelta(minutes=1)).isoformat()}", '
                f'"withdrawn_wh": {WITHDRAWN_WH}}}'
            )
            client.publish(topic, payload, qos=1)
            sent += 1
        _pump(selector, clients, 0.002)
    drain_until = time.monotonic() + 60
    while acknowledged < sent and time.monotonic() < drain_until:
        _pump(selector, clients, 0.01)
    for client, _, _ in clients:
        client.disconnect()
    Path(job["result"]).write_text(json.dumps({"sent": sent, "acknowledged": acknowledged}))


_misc_due = 0.0


def _pump(selector, clients, timeout: float) -> None:
    # Light on the CPU it shares with the platform: publishing writes at once, so few
    # clients have anything left to write, and keepalives (60 s) need a look once a second.
    global _misc_due
    for key, _ in selector.select(timeout):
        key.data.loop_read()
    for client, _, _ in clients:
        if client.want_write():
            client.loop_write()
    if time.monotonic() >= _misc_due:
        _misc_due = time.monotonic() + 1.0
        for client, _, _ in clients:
            client.loop_misc()


if __name__ == "__main__":
    main()
