"""Every device family across every case, through the real Mosquitto and the worker.

Recorded payloads of each family (tests/metering/device_families.py) are published by a
device registered through the platform, with its own broker account, to the Mosquitto
that scripts/services.sh starts; the ingestion worker records them on PostgreSQL. The
cases are those of the metering issue: an outage of the worker (QoS 1 queued), QoS 0
against QoS 1, a 1 GWh spike, a meter replacement, a clock from 1970, a gap of five
hours, overlapping intervals, and both daylight-saving days of 2026 in Europe/Rome.
Each asserts that the booked energy is exactly what the meter measured, or that the
doubtful part is in quarantine or rejected with its reason.

The worker's clock is the only thing not real: messages must arrive on the scenario's
day (the platform refuses readings from the future and dates Shelly status messages on
arrival), so the worker reads real time shifted to the instant the test sets. Messages
queued while the worker is away still arrive microseconds apart, as after an outage.

One worker serves the whole module (one persistent session, stopped and started again
by the outage cases); waits poll, and a device's last message is ignored chatter whose
arrival proves that everything it published before has been recorded.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import types
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.db.models import Sum

from cer.audit.models import AuditEntry
from cer.core.models import Municipality
from cer.metering import broker, quarantine
from cer.metering import devices as device_accounts
from cer.metering import worker as worker_module
from cer.metering.models import (
    CounterChannel,
    CounterSample,
    CounterState,
    HourlyReading,
    IntervalEnergy,
    ReadingQuality,
    ReadingSource,
    RejectedMessage,
)
from cer.metering.worker import IngestWorker
from cercalc.periods import ROME
from tests import factories
from tests.metering.device_families import FAMILIES, Family

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("MQTT_ADMIN_PASSWORD"),
        reason="needs the Mosquitto with dynamic security started by scripts/services.sh",
    ),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the worker thread and the test share the database: PostgreSQL only",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
WAIT_S = 20.0  # bound of every wait: it only keeps a broken run from hanging
REGISTERED = dt.datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
T0 = dt.datetime(2026, 5, 12, 8, 0, tzinfo=UTC)
CLOCK_NOT_SET = dt.datetime(1970, 1, 1, 0, 5, tzinfo=UTC)
# The meter's registers when a case starts [Wh], and a steady minute: 2.4 kW withdrawn
# and 3.6 kW injected, within the point's 4.5 kW contracted and 6 kW plant.
W0, I0 = 1_200_000, 500_000
W_MINUTE, I_MINUTE = 40, 60
SPIKE_WH = 1_000_000_000  # 1 GWh
OK = ReadingQuality.VALID.value
INT = ReadingQuality.INTERPOLATED.value


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(transactional_db):
    """Only the municipality the builders use, instead of every reference table: loading
    all of them for each of the matrix's cases would take most of its time."""
    Municipality.objects.get_or_create(
        istat_code=factories.SPINEA,
        defaults={
            "name": "Spinea",
            "region": "Veneto",
            "province": "Venezia",
            "province_abbr": "VE",
            "cadastral_code": "I908",
            "population": 27_000,
        },
    )


def _eventually(predicate, *, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


# --- the worker, its clock, and the device -----------------------------------------------


class _Clock:
    """Real time shifted to the scenario: `show(instant)` makes now read `instant`."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)
        self.reads = 0

    def show(self, instant: dt.datetime) -> None:
        self.offset = instant - dt.datetime.now(UTC)

    def now(self, tz: dt.tzinfo | None = None) -> dt.datetime:
        self.reads += 1  # the worker reads it once per message received
        return dt.datetime.now(UTC) + self.offset


class _Ingestion:
    """The ingestion worker in a thread, with one persistent session for the module."""

    def __init__(self) -> None:
        self.client_id = f"cer-ingest-matrix-{uuid.uuid4().hex[:8]}"
        self.worker: IngestWorker | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ignored_before = 0

    @property
    def running(self) -> bool:
        return self.worker is not None

    @property
    def ignored(self) -> int:
        """Messages ignored as chatter by every worker of the module so far."""
        return self._ignored_before + (self.worker.totals.ignored if self.worker else 0)

    def start(self) -> None:
        self._stop = threading.Event()
        self.worker = IngestWorker(
            config=broker.ingest_config(),
            stop=self._stop,
            client_id=self.client_id,
            batch_size=200,
            flush_interval_s=0.02,
        )
        self._thread = threading.Thread(target=self.worker.run, daemon=True)
        self._thread.start()
        _eventually(self.worker.subscribed.is_set, what="the worker's subscription")

    def stop(self) -> None:
        """Stop cleanly: the current batch is committed and acknowledged first."""
        assert self.worker is not None and self._thread is not None
        self._stop.set()
        self._thread.join(WAIT_S)
        self._ignored_before += self.worker.totals.ignored
        self.worker = None

    def discard_session(self) -> None:
        config = broker.ingest_config()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True
        )
        broker.configure_client(client, config)
        client.connect(config.host, config.port)
        client.loop_start()
        client.disconnect()
        client.loop_stop()


@pytest.fixture(scope="module")
def clock():
    shifted = _Clock()
    with pytest.MonkeyPatch.context() as patch:
        # The worker stamps each message with dt.datetime.now(dt.UTC) on receipt.
        patch.setattr(
            worker_module,
            "dt",
            types.SimpleNamespace(datetime=types.SimpleNamespace(now=shifted.now), UTC=UTC),
        )
        yield shifted


@pytest.fixture(scope="module")
def ingestion(clock, django_db_setup, django_db_blocker):
    # The worker thread writes its heartbeat from its first turn, before any test of the
    # module has opened the database to it: the database is open for the module's life.
    with django_db_blocker.unblock():
        running = _Ingestion()
        running.start()
        yield running
        if running.running:
            running.stop()
        running.discard_session()


class _Meter:
    """A device in the field: publishes its family's payloads over MQTT 3.1.1."""

    def __init__(
        self, family: Family, account: device_accounts.DeviceSecret, clock, ingestion
    ) -> None:
        self.family = family
        self.device = account.device
        self.clock = clock
        self.ingestion = ingestion
        self.now = T0
        # Interval families report the energy since their previous report.
        self._last: tuple[dt.datetime, int, int] | None = None
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"meter-{uuid.uuid4().hex[:10]}",
            protocol=mqtt.MQTTProtocolVersion.MQTTv311,
        )
        self.client.username_pw_set(account.device.mqtt_username, account.secret)
        config = broker.ingest_config()
        self.client.connect(config.host, config.port, keepalive=30)
        self.client.loop_start()

    def publish(self, suffix: str, payload: bytes, *, at: dt.datetime, qos: int = 1) -> None:
        """Publish as if at `at`; with the worker running, wait until it has received it."""
        self.now = at
        self.clock.show(at)
        seen = self.clock.reads
        info = self.client.publish(f"{self.device.topic_prefix}/{suffix}", payload, qos=qos)
        info.wait_for_publish(WAIT_S)
        assert info.is_published()
        if self.ingestion.running:
            _eventually(lambda: self.clock.reads > seen, what="the worker to receive a message")

    def send(
        self,
        at: dt.datetime,
        withdrawn_wh: int,
        injected_wh: int,
        *,
        qos: int = 1,
        reported_withdrawn_wh: int | None = None,
    ) -> None:
        """Report the meter's registers at `at` [Wh]; `reported_withdrawn_wh` is a glitch:
        what the device sends instead of the true withdrawn value."""
        family = self.family
        if not family.intervals:
            reported = withdrawn_wh if reported_withdrawn_wh is None else reported_withdrawn_wh
            self.publish(family.suffix, family.counters(at, reported, injected_wh), at=at, qos=qos)
            return
        last, self._last = self._last, (at, withdrawn_wh, injected_wh)
        if last is None:
            return  # the first report of an interval device is the end of its first interval
        start, last_withdrawn, last_injected = last
        withdrawn = withdrawn_wh - last_withdrawn
        if reported_withdrawn_wh is not None:
            withdrawn = reported_withdrawn_wh
        payload = family.interval(start, at, withdrawn, injected_wh - last_injected)
        self.publish(family.suffix, payload, at=at, qos=qos)

    def settle(self) -> None:
        """Publish chatter and wait until the worker has ignored it: all before is recorded."""
        before = self.ingestion.ignored
        self.publish(self.family.chatter, b"online", at=self.now)
        _eventually(lambda: self.ingestion.ignored > before, what="the device's last message")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def meter(request, point, clock, ingestion):
    family: Family = request.param
    account = device_accounts.register_device(
        point=point, name=family.name.replace("_", "-"), kind=family.kind, now=REGISTERED
    )
    if not ingestion.running:
        ingestion.start()  # a failed outage case left it stopped
    field_device = _Meter(family, account, clock, ingestion)
    yield field_device
    field_device.close()
    with broker.DynsecSession() as session:
        broker.delete_device_account(
            username=account.device.mqtt_username, role=account.device.broker_role, session=session
        )


# --- what was booked ---------------------------------------------------------------------


def _rows(point) -> dict[dt.datetime, tuple[int, int, str]]:
    """(withdrawn, injected, quality) per UTC hour of the device source."""
    rows = HourlyReading.objects.filter(connection_point=point, source=ReadingSource.DEVICE)
    return {row.hour_start: (row.withdrawn_wh, row.injected_wh, row.quality) for row in rows}


def _booked(point) -> tuple[int, int]:
    rows = HourlyReading.objects.filter(connection_point=point, source=ReadingSource.DEVICE)
    totals = rows.aggregate(withdrawn=Sum("withdrawn_wh"), injected=Sum("injected_wh"))
    return totals["withdrawn"] or 0, totals["injected"] or 0


def _quarantined(device) -> list[tuple[str, int, str]]:
    samples = CounterSample.objects.filter(device=device, state=CounterState.QUARANTINED)
    return sorted(samples.values_list("channel", "value_wh", "reason"))


def _rejected(device) -> list[tuple[str, str]]:
    return list(RejectedMessage.objects.filter(device=device).values_list("field", "reason"))


def _minutes(minute: int, *, extra_withdrawn: int = 0) -> tuple[dt.datetime, int, int]:
    """The instant and the registers after `minute` minutes of steady exchange."""
    at = T0 + minute * MINUTE
    return at, W0 + W_MINUTE * minute + extra_withdrawn, I0 + I_MINUTE * minute


# --- the cases ---------------------------------------------------------------------------


def case_outage(meter: _Meter, point) -> None:
    """The worker is away for eight minutes; the QoS 1 messages queued meanwhile are booked.

    Shelly status messages carry no time: the backlog arrives microseconds apart and must
    still book the 8 minutes' energy (the issue: 85 Wh measured, 65 Wh never booked).
    """
    meter.send(*_minutes(0))
    meter.settle()
    meter.ingestion.stop()
    for minute in range(1, 9):
        meter.send(*_minutes(minute, extra_withdrawn=5 if minute == 8 else 0))
    meter.clock.show(T0 + 8 * MINUTE + dt.timedelta(seconds=30))
    meter.ingestion.start()
    meter.settle()

    assert _booked(point) == (8 * W_MINUTE + 5, 8 * I_MINUTE)
    assert {quality for _, _, quality in _rows(point).values()} == {OK}
    assert _quarantined(meter.device) == []
    assert _rejected(meter.device) == []


def case_qos(meter: _Meter, point) -> None:
    """QoS 0 is delivered while the worker runs and lost while it is away; QoS 1 is kept.

    A counter loses nothing with a lost message (the next one carries the energy); an
    interval sent at QoS 0 while the worker is away is lost with its energy: the reason
    installers are told to publish at QoS 1.
    """
    meter.send(*_minutes(0))
    meter.send(*_minutes(1), qos=0)
    meter.settle()
    meter.ingestion.stop()
    meter.send(*_minutes(2), qos=0)
    meter.send(*_minutes(3), qos=1)
    meter.send(*_minutes(4), qos=0)
    meter.clock.show(T0 + 4 * MINUTE + dt.timedelta(seconds=30))
    meter.ingestion.start()
    meter.send(*_minutes(5))
    meter.settle()

    if meter.family.intervals:
        starts = IntervalEnergy.objects.filter(device=meter.device).values_list(
            "start_at", flat=True
        )
        # Delivered: minutes 0-1 (QoS 1), 1-2 (QoS 0, worker running), 3-4 and 5-6 (QoS 1).
        assert sorted(starts) == [T0 + minute * MINUTE for minute in (0, 2, 4)]
        assert _booked(point) == (3 * W_MINUTE, 3 * I_MINUTE)
    else:
        samples = CounterSample.objects.filter(
            device=meter.device, channel=CounterChannel.WITHDRAWN
        )
        instants = sorted(samples.values_list("measured_at", flat=True))
        assert len(instants) == 4  # minutes 0, 1, 3 and 5: the QoS 0 ones sent while away lost
        if meter.family.carries_time:
            assert instants == [T0 + minute * MINUTE for minute in (0, 1, 3, 5)]
        assert _booked(point) == (5 * W_MINUTE, 5 * I_MINUTE)
    assert _rejected(meter.device) == []


def case_spike(meter: _Meter, point) -> None:
    """A single 1 GWh value: quarantined (counters) or rejected (intervals), never booked."""
    for minute in range(5):
        at, withdrawn, injected = _minutes(minute)
        spike = SPIKE_WH if minute == 2 else None
        meter.send(at, withdrawn, injected, reported_withdrawn_wh=spike)
    meter.settle()

    if meter.family.intervals:
        # The message of minute 1-2 is refused whole: its injection goes with it.
        assert _booked(point) == (3 * W_MINUTE, 3 * I_MINUTE)
        ((field, reason),) = _rejected(meter.device)
        assert field == "withdrawn_wh"
        assert reason.startswith(
            f"{SPIKE_WH} Wh in 60 s exceeds the 84 Wh that 4500 W allow at this point"
        )
    else:
        assert _booked(point) == (4 * W_MINUTE, 4 * I_MINUTE)
        ((channel, value, reason),) = _quarantined(meter.device)
        assert (channel, value) == (CounterChannel.WITHDRAWN, SPIKE_WH)
        assert reason.startswith("the counter jumped by")
        assert _rejected(meter.device) == []


def case_replacement(meter: _Meter, point) -> None:
    """A new meter showing 2,000 Wh: its values wait in quarantine until the referente
    records the replacement, then count from its start reading, which books nothing."""
    for minute in range(3):
        meter.send(*_minutes(minute))
    replaced_at = T0 + dt.timedelta(minutes=2, seconds=30)
    for minute in range(3, 6):
        meter.send(T0 + minute * MINUTE, 2_000 + 20 * (minute - 2), 500 + 30 * (minute - 2))
    meter.settle()
    waiting = _quarantined(meter.device)
    referente = factories.make_user_with_role(
        point.configuration.community, role="REFERENTE", username="replacing-referente"
    )

    quarantine.record_replacement(
        device=meter.device,
        replaced_at=replaced_at,
        withdrawn_start_wh=2_000,
        injected_start_wh=500,
        actor=referente,
        now=T0 + 10 * MINUTE,
    )

    assert len(waiting) == 6  # the new meter's three values, on both registers
    # Old meter: two minutes; new meter: from its start reading to its third value.
    assert _booked(point) == (2 * W_MINUTE + 60, 2 * I_MINUTE + 90)
    assert _quarantined(meter.device) == []
    assert AuditEntry.objects.filter(code="metering.meter.replaced").count() == 1


def case_clock_1970(meter: _Meter, point) -> None:
    """A message stamped 1970 (a device before NTP) is rejected and creates no rows."""
    meter.send(*_minutes(0))
    meter.send(*_minutes(1))
    family = meter.family
    if family.intervals:
        stale = family.interval(CLOCK_NOT_SET, CLOCK_NOT_SET + MINUTE, W_MINUTE, I_MINUTE)
    else:
        stale = family.counters(CLOCK_NOT_SET, W0 + 2 * W_MINUTE, I0 + 2 * I_MINUTE)
    meter.publish(family.suffix, stale, at=T0 + 2 * MINUTE)
    meter.send(*_minutes(3))
    meter.settle()

    assert _booked(point) == (3 * W_MINUTE, 3 * I_MINUTE)
    assert min(_rows(point)) == T0
    assert not CounterSample.objects.filter(device=meter.device, measured_at__year=1970).exists()
    ((field, reason),) = _rejected(meter.device)
    expected_field = {"TASMOTA": "Time", "SHELLY_EM": "params.ts"}.get(family.kind)
    if expected_field is None:
        expected_field = "start" if family.intervals else "readings[0].at"
    assert field == expected_field
    assert "1970-01-01T00:05:00Z is before the device was registered (2026-03-01)" in reason


def case_gap(meter: _Meter, point) -> None:
    """Five hours without messages: the gap's energy is booked as interpolated hours."""
    gap_withdrawn, gap_injected = 10_000, 15_000  # 2 kW and 3 kW over the five hours
    meter.send(*_minutes(0))
    meter.send(*_minutes(1))
    for minute in (301, 302):
        # The counter moved by the gap's energy between minutes 1 and 301, then steadily.
        _, withdrawn, injected = _minutes(minute - 300)
        meter.send(T0 + minute * MINUTE, withdrawn + gap_withdrawn, injected + gap_injected)
    meter.settle()

    rows = _rows(point)
    assert _booked(point) == (2 * W_MINUTE + gap_withdrawn, 2 * I_MINUTE + gap_injected)
    # 08:01-13:01 is the gap: every hour it touches is interpolated, the edges included.
    assert sorted(rows) == [T0 + dt.timedelta(hours=hour) for hour in range(6)]
    assert {quality for _, _, quality in rows.values()} == {INT}
    for hour in range(1, 5):
        assert rows[T0 + dt.timedelta(hours=hour)] == (2_000, 3_000, INT)


def _case_dst(meter: _Meter, point, day: dt.date, hours: int) -> None:
    """A report every half hour of a local day with a daylight-saving change: every UTC
    hour holds exactly what the meter advanced in it, and the day has 23 or 25 of them."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=ROME).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ROME).astimezone(UTC)
    halves = int((end - start) / dt.timedelta(minutes=30))
    withdrawn, injected = W0, I0
    expected: dict[dt.datetime, tuple[int, int, str]] = {}
    meter.send(start, withdrawn, injected)
    for half in range(1, halves + 1):
        at = start + half * dt.timedelta(minutes=30)
        step_withdrawn, step_injected = 100 + 50 * (half % 7), 25 * (half % 5)
        withdrawn, injected = withdrawn + step_withdrawn, injected + step_injected
        meter.send(at, withdrawn, injected)
        hour = (at - dt.timedelta(minutes=30)).replace(minute=0)
        before = expected.get(hour, (0, 0, OK))
        expected[hour] = (before[0] + step_withdrawn, before[1] + step_injected, OK)
    meter.settle()

    assert len(expected) == hours
    assert _rows(point) == expected
    assert _booked(point) == (withdrawn - W0, injected - I0)
    assert _quarantined(meter.device) == [] and _rejected(meter.device) == []


def case_dst_spring(meter: _Meter, point) -> None:
    _case_dst(meter, point, dt.date(2026, 3, 29), 23)


def case_dst_autumn(meter: _Meter, point) -> None:
    _case_dst(meter, point, dt.date(2026, 10, 25), 25)


def case_overlap(meter: _Meter, point) -> None:
    """Intervals are keyed by their span: an overlap and a silent resend are rejected with
    their reason; a declared correction replaces the earlier energy."""
    family = meter.family
    quarter = dt.timedelta(minutes=15)
    first = T0 + 45 * MINUTE  # 08:45-09:00 and 09:00-09:15
    for start, withdrawn in ((first, 200), (first + quarter, 300)):
        meter.publish(
            family.suffix, family.interval(start, start + quarter, withdrawn, 0), at=start + quarter
        )
    overlapping = family.interval(first + 5 * MINUTE, first + 20 * MINUTE, 90, 0)
    meter.publish(family.suffix, overlapping, at=first + 2 * quarter)
    resent = family.interval(first, first + quarter, 250, 0)
    meter.publish(family.suffix, resent, at=first + 2 * quarter)
    corrected = family.interval(first, first + quarter, 250, 0, correction=True)
    meter.publish(family.suffix, corrected, at=first + 2 * quarter)
    meter.settle()

    rows = _rows(point)
    assert rows == {T0: (250, 0, OK), T0 + dt.timedelta(hours=1): (300, 0, OK)}
    rejected = sorted(_rejected(meter.device))
    assert [field for field, _ in rejected] == ["correction", "start"]
    assert "was already recorded with 0 Wh injected and 200 Wh withdrawn" in rejected[0][1]
    assert "overlaps the interval" in rejected[1][1]


CASES = {
    "outage": (case_outage, lambda family: True),
    "qos": (case_qos, lambda family: True),
    "spike": (case_spike, lambda family: True),
    "replacement": (case_replacement, lambda family: not family.intervals),
    "clock_1970": (case_clock_1970, lambda family: family.carries_time),
    "gap": (case_gap, lambda family: True),
    "overlap": (case_overlap, lambda family: family.intervals),
    "dst_spring": (case_dst_spring, lambda family: True),
    "dst_autumn": (case_dst_autumn, lambda family: True),
}

MATRIX = [
    pytest.param(family, case, id=f"{family.name}-{case}")
    for family in FAMILIES
    for case, (_, applies) in CASES.items()
    if applies(family)
]


@pytest.mark.parametrize(("meter", "case"), MATRIX, indirect=["meter"])
def test_the_device_books_what_its_meter_measured(meter, case, point):
    run, _ = CASES[case]
    run(meter, point)
