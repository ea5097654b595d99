"""A deterministic demo energy community: roster, hourly meter data and synthetic prices.

Pure Python (NumPy, pvlib, python-stdnum, schwifty): no Django, no clock, no
network. ``build_demo(seed)`` returns everything a loader needs.
"""

from cer.demo.community import DemoCommunity, build_demo
from cer.demo.roster import DemoRoster, build_roster

__all__ = ["DemoCommunity", "DemoRoster", "build_demo", "build_roster"]
