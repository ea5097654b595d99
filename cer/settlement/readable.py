"""A settlement run's stored details in sentences: what changed, which hours are missing.

A run keeps its differences from the previous version as a dict of machine names and its
gaps and unpriced hours as UTC timestamps (cer/settlement/services.py). The run page shows
them here as a person reads them: figures in kWh and euro, hours as Europe/Rome date
ranges, all through cer/core/formatting.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cer.core import formatting

HOUR = dt.timedelta(hours=1)


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def hour_range(start: dt.datetime, end: dt.datetime) -> str:
    """Say a span of hours [start, end) in local time: "3 giugno 2025, 14:00–18:00"."""
    first, last = timezone.localtime(start), timezone.localtime(end)
    if first.date() == last.date() or last == first.replace(hour=0) + dt.timedelta(days=1):
        stop = "24:00" if last.date() != first.date() else f"{last:%H:%M}"
        return f"{formatting.day(first)}, {first:%H:%M}–{stop}"
    return _("from %(start)s to %(end)s") % {
        "start": formatting.moment(first),
        "end": formatting.moment(last),
    }


def gap_ranges(gap: dict[str, Any]) -> list[str]:
    """Say the runs of hours of one stored gap ({"ranges": [[start, end], ...]})."""
    return [hour_range(_instant(start), _instant(end)) for start, end in gap.get("ranges", [])]


def unpriced_ranges(hours: list[str]) -> list[str]:
    """Group stored hour starts (UTC, ISO) into consecutive runs and say each one."""
    starts = sorted(_instant(hour) for hour in hours)
    spans: list[list[dt.datetime]] = []
    for start in starts:
        if spans and spans[-1][1] == start:
            spans[-1][1] = start + HOUR
        else:
            spans.append([start, start + HOUR])
    return [hour_range(first, end) for first, end in spans]


_TOTALS = {
    "injected_wh": (lambda: _("energy fed into the grid"), "wh"),
    "withdrawn_wh": (lambda: _("energy withdrawn from the grid"), "wh"),
    "shared_wh": (lambda: _("shared energy"), "wh"),
    "incentive_eur": (lambda: _("incentive tariff"), "eur"),
    "valorisation_eur": (lambda: _("ARERA valorisation"), "eur"),
    "excess_eur": (lambda: _("excess above 55 %/45 % (indicative)"), "eur"),
}


def _figure(value: Any, unit: str) -> str:
    if unit == "wh":
        return formatting.kwh(int(value))
    return formatting.eur(Decimal(str(value)))


def changes_sentences(changes: dict[str, Any]) -> list[str]:
    """Describe, one sentence each, what differs from the previous version of the month."""
    if not changes:
        return []
    sentences = [
        _("Compared with version %(version)s:") % {"version": changes.get("from_version", "?")}
    ]
    for name, (before, after) in changes.get("totals", {}).items():
        label, unit = _TOTALS.get(name, (lambda n=name: n, "eur"))
        sentences.append(
            _("%(what)s went from %(before)s to %(after)s.")
            % {
                "what": label().capitalize(),
                "before": _figure(before, unit),
                "after": _figure(after, unit),
            }
        )
    for pod, figures in changes.get("points", {}).items():
        injected = figures.get("injected_wh", [0, 0])
        withdrawn = figures.get("withdrawn_wh", [0, 0])
        sentences.append(
            _(
                "Point %(pod)s: fed in %(inj_before)s → %(inj_after)s, withdrawn "
                "%(wd_before)s → %(wd_after)s."
            )
            % {
                "pod": pod,
                "inj_before": formatting.kwh(injected[0]),
                "inj_after": formatting.kwh(injected[1]),
                "wd_before": formatting.kwh(withdrawn[0]),
                "wd_after": formatting.kwh(withdrawn[1]),
            }
        )
    hours = int(changes.get("hours_with_other_shared_energy") or 0)
    if hours:
        sentences.append(
            ngettext(
                "Shared energy differs in %(count)s hour.",
                "Shared energy differs in %(count)s hours.",
                hours,
            )
            % {"count": formatting.number(hours)}
        )
    if changes.get("parameters_changed"):
        sentences.append(_("Regulatory figures (tariffs, prices, limits) were updated."))
    if changes.get("membership_changed"):
        sentences.append(_("The members or their dates of membership changed."))
    if len(sentences) == 1:
        sentences.append(_("No figure changed."))
    return sentences
