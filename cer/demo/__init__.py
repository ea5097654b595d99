"""A deterministic demo energy community: roster, hourly meter data and synthetic prices.

Pure Python (NumPy, pvlib, python-stdnum, schwifty): no Django, no clock, no
network. ``build_demo(seed)`` returns everything a loader needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cer.demo.community import DemoCommunity, build_demo
    from cer.demo.roster import DemoRoster, build_roster

__all__ = ["DemoCommunity", "DemoRoster", "build_demo", "build_roster"]

_HOMES = {
    "DemoCommunity": "cer.demo.community",
    "build_demo": "cer.demo.community",
    "DemoRoster": "cer.demo.roster",
    "build_roster": "cer.demo.roster",
}


def __getattr__(name: str) -> Any:
    # Imported on first use: this package is also a Django app (for its load_demo command),
    # and importing pvlib and pandas at every process start would cost seconds.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
