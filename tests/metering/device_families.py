"""The device families of the metering matrix: recorded payloads with new times and counters.

Each family takes one recorded message of tests/fixtures/mqtt/ as its template and
changes only the instant and the energy values, so every payload the matrix publishes
keeps the shape the device really sends (keys, nesting, units, the fields around the
counters). Counters are given in whole Wh and written in the device's unit: Shelly in Wh
with a fraction (the platform rounds down), Tasmota in kWh, the platform's JSON in Wh.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from cercalc.periods import ROME

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mqtt"
# Shelly counters carry a fraction of a Wh; the platform books whole Wh, rounded down.
SHELLY_FRACTION = Decimal("0.37")


def _template(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _kwh(wh: int) -> float:
    # A float with at most three decimals: json.dumps writes its shortest exact form.
    return float(Decimal(wh) / 1000)


def _shelly_wh(wh: int) -> float:
    return float(Decimal(wh) + SHELLY_FRACTION)


def _phases(wh: int) -> list[float]:
    """Split a three-phase meter's total over its phases, as SetOption129 1 reports it."""
    third = wh // 3
    return [_kwh(third), _kwh(third), _kwh(wh - 2 * third)]


@dataclass(frozen=True)
class Family:
    """One device family: its kind, topic suffix and how a message is cut from its template."""

    name: str
    kind: str
    template: str
    suffix: str
    # Ignored on the device's topic: published last, its arrival shows that everything
    # the device sent before it has been recorded (one publisher's messages stay in order).
    chatter: str
    stamped_on_arrival: bool = False
    intervals: bool = False

    @property
    def carries_time(self) -> bool:
        return not self.stamped_on_arrival

    def counters(self, at: dt.datetime, withdrawn_wh: int, injected_wh: int) -> bytes:
        """A message carrying the meter's counters [Wh] at `at`."""
        recorded = _template(self.template)["payload"]
        payload = _COUNTER_BUILDERS[self.name](
            copy.deepcopy(recorded), at, withdrawn_wh, injected_wh
        )
        return json.dumps(payload).encode()

    def interval(
        self, start: dt.datetime, end: dt.datetime, withdrawn_wh: int, injected_wh: int, **extra
    ) -> bytes:
        """A message of the platform's JSON carrying the energy of [start, end)."""
        payload = copy.deepcopy(_template(self.template)["payload"])
        local = {
            "start": start.astimezone(ROME).isoformat(),
            "end": end.astimezone(ROME).isoformat(),
        }
        payload.update(local, withdrawn_wh=withdrawn_wh, injected_wh=injected_wh, **extra)
        return json.dumps(payload).encode()


def _pro3em_rpc(payload: dict, at: dt.datetime, withdrawn: int, injected: int) -> dict:
    payload["params"]["ts"] = at.timestamp()
    payload["params"]["emdata:0"].update(
        total_act=_shelly_wh(withdrawn), total_act_ret=_shelly_wh(injected)
    )
    return payload


def _pro3em_status(payload: dict, at: dt.datetime, withdrawn: int, injected: int) -> dict:
    # The per-phase counters move with the total; the platform reads the total only.
    payload.update(
        a_total_act_energy=_shelly_wh(withdrawn // 3),
        total_act=_shelly_wh(withdrawn),
        total_act_ret=_shelly_wh(injected),
    )
    return payload


def _proem_em1data(payload: dict, at: dt.datetime, withdrawn: int, injected: int) -> dict:
    payload.update(
        total_act_energy=_shelly_wh(withdrawn), total_act_ret_energy=_shelly_wh(injected)
    )
    return payload


def _plus_switch(payload: dict, at: dt.datetime, withdrawn: int, injected: int) -> dict:
    payload["aenergy"]["total"] = _shelly_wh(withdrawn)
    payload["ret_aenergy"]["total"] = _shelly_wh(injected)
    return payload


def _tasmota_time(at: dt.datetime) -> str:
    # SetOption52 1: local time with its offset, in whole seconds.
    return at.astimezone(ROME).replace(microsecond=0).isoformat()


def _tasmota_energy(payload: dict, at: dt.datetime, withdrawn: int, injected: int) -> dict:
    payload["Time"] = _tasmota_time(at)
    payload["ENERGY"].update(Total=_kwh(withdrawn), TotalReturn=_kwh(injected))
    return payload


def _tasmota_phases(payload: dict, at: dt.datetime, withdrawn: int, injected: int) -> dict:
    payload["Time"] = _tasmota_time(at)
    payload["ENERGY"].update(Total=_phases(withdrawn), TotalReturn=_phases(injected))
    return payload


def _tasmota_sml(payload: dict, at: dt.datetime, withdrawn: int, injected: int) -> dict:
    payload["Time"] = _tasmota_time(at)
    payload["SML"].update(Total_in=_kwh(withdrawn), Total_out=_kwh(injected))
    return payload


def _own_counters(payload: dict, at: dt.datetime, withdrawn: int, injected: int) -> dict:
    reading = {
        "at": at.astimezone(ROME).isoformat(),
        "injected_total_wh": injected,
        "withdrawn_total_wh": withdrawn,
    }
    return {"v": payload["v"], "readings": [reading]}


_COUNTER_BUILDERS = {
    "shelly_pro3em_rpc": _pro3em_rpc,
    "shelly_pro3em_status": _pro3em_status,
    "shelly_proem_em1data": _proem_em1data,
    "shelly_plus_switch": _plus_switch,
    "tasmota_energy": _tasmota_energy,
    "tasmota_phases": _tasmota_phases,
    "tasmota_sml": _tasmota_sml,
    "own_counters": _own_counters,
}

FAMILIES = [
    Family("shelly_pro3em_rpc", "SHELLY_EM", "shelly_pro3em_notify_status", "events/rpc", "online"),
    Family(
        "shelly_pro3em_status",
        "SHELLY_STS",
        "shelly_pro3em_emdata_status",
        "status/emdata:0",
        "online",
        stamped_on_arrival=True,
    ),
    Family(
        "shelly_proem_em1data",
        "SHELLY_STS",
        "shelly_proem_em1data_status",
        "status/em1data:0",
        "online",
        stamped_on_arrival=True,
    ),
    Family(
        "shelly_plus_switch",
        "SHELLY_STS",
        "shelly_plus1pm_switch_status",
        "status/switch:0",
        "online",
        stamped_on_arrival=True,
    ),
    Family("tasmota_energy", "TASMOTA", "tasmota_energy_total_return", "tele/SENSOR", "tele/STATE"),
    Family("tasmota_phases", "TASMOTA", "tasmota_energy_three_phases", "tele/SENSOR", "tele/STATE"),
    Family("tasmota_sml", "TASMOTA", "tasmota_sml_sensor", "tele/SENSOR", "tele/STATE"),
    Family("own_counters", "OWN_JSON", "own_counters_bulk", "readings", "status"),
    Family("own_intervals", "OWN_JSON", "own_interval", "readings", "status", intervals=True),
]
