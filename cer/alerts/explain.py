"""An alert's explanation in words, written from its stored figures in the reader's language.

Every number and date goes through cer.core.formatting; the sentences are gettext, so the
same alert reads in Italian or English by who looks at it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from cer.alerts.models import AlertRule
from cer.core import formatting


def _date(text: str) -> str:
    return formatting.day(dt.date.fromisoformat(text))


def _moment(text: str) -> str:
    return formatting.moment(dt.datetime.fromisoformat(text))


def _pct(share: str) -> str:
    return formatting.percent(Decimal(share) * 100)


def _silent(f: Mapping[str, Any]) -> str:
    if f["heard"]:
        return _(
            "Device %(device)s of point %(pod)s has sent nothing since %(since)s, more than "
            "%(hours)s hours."
        ) % {
            "device": f["device"],
            "pod": f["pod"],
            "since": _moment(f["since"]),
            "hours": f["hours"],
        }
    return _(
        "Device %(device)s of point %(pod)s has never sent anything since it was created on "
        "%(since)s."
    ) % {"device": f["device"], "pod": f["pod"], "since": _moment(f["since"])}


def _missing(f: Mapping[str, Any]) -> str:
    days = "; ".join(
        _("%(day)s: %(missing)s of %(expected)s hours")
        % {"day": _date(day), "missing": missing, "expected": expected}
        for day, missing, expected in f["days"]
    )
    return _("Point %(pod)s has hourly readings missing: %(days)s.") % {
        "pod": f["pod"],
        "days": days,
    }


def _quarantine(f: Mapping[str, Any]) -> str:
    return _(
        "Device %(device)s of point %(pod)s has %(samples)s counter values in quarantine (the "
        "counter went backwards or jumped beyond the point's power), the oldest measured on "
        "%(oldest)s. Release or discard them on the device's page."
    ) % {
        "device": f["device"],
        "pod": f["pod"],
        "samples": f["samples"],
        "oldest": _moment(f["oldest"]),
    }


def _low_production(f: Mapping[str, Any]) -> str:
    return _(
        "On %(day)s plant %(plant)s injected %(measured)s against %(expected)s expected under a "
        "clear sky (%(ratio)s); the community's other plants gave %(median)s of theirs, and "
        "the alert rings below %(tolerance)s of that."
    ) % {
        "day": _date(f["day"]),
        "plant": f["plant"],
        "measured": formatting.kwh(f["measured_wh"]),
        "expected": formatting.kwh(f["expected_wh"]),
        "ratio": _pct(f["ratio"]),
        "median": _pct(f["median"]),
        "tolerance": _pct(f["tolerance"]),
    }


def _high_consumption(f: Mapping[str, Any]) -> str:
    return _(
        "On %(day)s point %(pod)s withdrew %(withdrawn)s, more than %(factor)s times its usual "
        "%(usual)s (the median of the same weekday over the four weeks before)."
    ) % {
        "day": _date(f["day"]),
        "pod": f["pod"],
        "withdrawn": formatting.kwh(f["withdrawn_wh"]),
        "factor": formatting.number(Decimal(f["factor"]), 2, trim=True),
        "usual": formatting.kwh(f["usual_wh"]),
    }


def _excess(f: Mapping[str, Any]) -> str:
    parts = []
    for over in f["over"]:
        span = (
            _("in %(month)s") % {"month": formatting.month(dt.date.fromisoformat(f["month"]))}
            if over["span"] == "month"
            else _("in %(year)s so far") % {"year": f["year"]}
        )
        group = (
            _("plants with a capital grant") if over["grant"] else _("plants with the tariff only")
        )
        parts.append(
            _("%(span)s, %(group)s: %(ratio)s of injected energy incentivised, above %(threshold)s")
            % {
                "span": span,
                "group": group,
                "ratio": _pct(over["ratio"]),
                "threshold": _pct(over["threshold"]),
            }
        )
    return _(
        "Configuration %(configuration)s trends above the 55 %%/45 %% rule: %(parts)s. The "
        "tariff above the threshold may not go to enterprises."
    ) % {"configuration": f["configuration"], "parts": "; ".join(parts)}


def _existing(f: Mapping[str, Any]) -> str:
    return _(
        "Existing plants are %(existing)s of %(total)s of the community's plant power "
        "(%(share)s); the limit is %(limit)s."
    ) % {
        "existing": formatting.kw(Decimal(f["existing_kw"])),
        "total": formatting.kw(Decimal(f["total_kw"])),
        "share": _pct(f["share"]),
        "limit": _pct(f["limit"]),
    }


def _power_limit(f: Mapping[str, Any]) -> str:
    return _(
        "Plant %(plant)s has %(power)s and a planned extension of %(extension)s: %(after)s "
        "against the limit of %(limit)s per plant."
    ) % {
        "plant": f["plant"],
        "power": formatting.kw(Decimal(f["power_kw"])),
        "extension": formatting.kw(Decimal(f["extension_kw"])),
        "after": formatting.kw(Decimal(f["after_kw"])),
        "limit": formatting.kw(Decimal(f["limit_kw"])),
    }


def _leaving(f: Mapping[str, Any]) -> str:
    return _(
        "The owner of %(plants)s leaves the community on %(leaves)s: agree what happens to "
        "the plant before then."
    ) % {"leaves": _date(f["leaves"]), "plants": ", ".join(f["plants"])}


def _deadline(f: Mapping[str, Any]) -> str:
    what = {
        "pnrr-works": _("the PNRR grant's end of works"),
        "pnrr-service": _("the PNRR grant's entry into service"),
        "gse-request": _("the request to the GSE (120 days from entry into service)"),
    }.get(f["deadline"], f["deadline"])
    return _("Plant %(plant)s: %(what)s is due by %(due)s.") % {
        "plant": f["plant"],
        "what": what,
        "due": _date(f["due"]),
    }


_WRITERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    AlertRule.DEVICE_SILENT: _silent,
    AlertRule.READINGS_MISSING: _missing,
    AlertRule.COUNTER_QUARANTINE: _quarantine,
    AlertRule.LOW_PRODUCTION: _low_production,
    AlertRule.HIGH_CONSUMPTION: _high_consumption,
    AlertRule.EXCESS_SHARE: _excess,
    AlertRule.EXISTING_SHARE: _existing,
    AlertRule.POWER_LIMIT: _power_limit,
    AlertRule.MEMBER_LEAVING: _leaving,
    AlertRule.DEADLINE: _deadline,
}


def explain(rule: str, figures: Mapping[str, Any]) -> str:
    """The explanation of an alert of `rule` with `figures`, in the active language."""
    return _WRITERS[rule](figures)
