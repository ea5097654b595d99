"""What the recording path passes around: rows to write, their counts, and device messages.

Kept apart from cer.metering.recording so that its helpers (bulk_writes, counters) can
name these types without importing the writer that imports them.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cer.metering import ingest
from cer.metering.models import IngestChannel, RejectedMessage


class WriteMode(enum.Enum):
    """How rows meet the stored readings of their source."""

    ADD = "add"  # increments: device energy booked hour by hour, possibly negative
    REPLACE = "replace"  # the rows replace what is stored (files, the API)
    KEEP = "keep"  # the rows fill hours without a reading; stored ones stay (estimates)


@dataclass(frozen=True)
class HourlyRows:
    """Hourly energies per point [Wh], one row per (point, hour start [unix s]).

    `has_injected`/`has_withdrawn` False: the row does not carry that quantity and a
    stored value is kept (None: every row carries it). `quality` holds a ReadingQuality
    code per row (None: new rows are valid, stored rows keep theirs).
    """

    point_id: npt.NDArray[np.int64]
    hour_start_s: npt.NDArray[np.int64]
    injected_wh: npt.NDArray[np.int64]
    withdrawn_wh: npt.NDArray[np.int64]
    has_injected: npt.NDArray[np.bool_] | None = None
    has_withdrawn: npt.NDArray[np.bool_] | None = None
    quality: npt.NDArray[np.str_] | None = None

    def __len__(self) -> int:
        return int(self.point_id.size)


@dataclass(frozen=True)
class WriteCounts:
    """Rows new, replaced with other values, and left as they were.

    An ADD cannot tell a new row from an incremented one: every row that changed an
    hour counts as superseded.
    """

    inserted: int
    superseded: int
    unchanged: int


@dataclass(frozen=True)
class AuditNote:
    """What to record per point written: `details` plus the point's number of hours."""

    code: str
    actor: Any
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IncomingMessage:
    """A message as received: topic, raw payload and the arrival instant (aware).

    `redelivered` is the MQTT DUP flag: the broker sent this message before and got
    no acknowledgement (the worker stopped between its commit and its PUBACK).
    """

    topic: str
    payload: bytes
    received_at: dt.datetime
    redelivered: bool = False


@dataclass
class IngestOutcome:
    """What a batch did; readings are counted one per interval or per counter value."""

    messages: int = 0
    rejected: int = 0
    ignored: int = 0
    new_readings: int = 0
    duplicate_readings: int = 0
    quarantined: int = 0
    rejections: list[RejectedMessage] = field(default_factory=list)

    def add(self, other: IngestOutcome) -> None:
        self.messages += other.messages
        self.rejected += other.rejected
        self.ignored += other.ignored
        self.new_readings += other.new_readings
        self.duplicate_readings += other.duplicate_readings
        self.quarantined += other.quarantined
        self.rejections.extend(other.rejections)


@dataclass
class AcceptedMessage:
    """A message that passed the checks, with what recording needs of its device."""

    device_id: int | None
    point_id: int
    rollover_wh: int | None
    parsed: ingest.ParsedMessage
    digest: str
    received_at: dt.datetime
    limits: ingest.PowerLimits


def rejected_row(
    message: IncomingMessage,
    rejection: ingest.Rejection,
    configuration_id: int | None,
    device_id: int | None,
) -> RejectedMessage:
    """The row that keeps a refused MQTT message with its reason (not saved yet)."""
    return RejectedMessage(
        channel=IngestChannel.MQTT,
        topic=message.topic[:500],
        payload=message.payload,
        received_at=message.received_at,
        field=rejection.field[:200],
        reason=rejection.reason,
        configuration_id=configuration_id,
        device_id=device_id,
    )


@dataclass
class ScreenedBatch:
    """A batch of MQTT messages checked before its transaction (recording.screen_messages).

    `accepted` and `origins` (the message and configuration of each accepted one, should
    its intervals be refused later) run in parallel; `redelivered` holds the rejections
    of messages the broker flagged as sent before, looked up before storing.
    """

    messages: Sequence[IncomingMessage]
    accepted: list[AcceptedMessage] = field(default_factory=list)
    origins: list[tuple[IncomingMessage, int | None]] = field(default_factory=list)
    rejected: list[RejectedMessage] = field(default_factory=list)
    redelivered: list[RejectedMessage] = field(default_factory=list)
    ignored: int = 0

    def reject(
        self,
        message: IncomingMessage,
        rejection: ingest.Rejection,
        configuration_id: int | None,
        device_id: int | None,
    ) -> None:
        stored = rejected_row(message, rejection, configuration_id, device_id)
        self.rejected.append(stored)
        if message.redelivered:
            self.redelivered.append(stored)
