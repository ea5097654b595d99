"""The engine's dated parameters with the administrators' overrides laid over them.

`cercalc.params` ships every regulatory number with its validity periods; a
`RegulatoryParameter` row replaces the engine's value on the dates it covers. The settlement,
the eligibility checks and the dashboards read their parameters here, so one row changes
all of them alike.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from cer.incentives.models import RegulatoryParameter
from cercalc.params import Kind, Parameters, ParameterTable, Validity, default_parameters


def parameters_with_overrides(
    first_day: dt.date, end_day: dt.date
) -> tuple[Parameters, dict[str, Any]]:
    """Return the engine's tables with the dated RegulatoryParameter rows laid over them.

    A row replaces the engine's value on the dates it covers; only decimal parameters can be
    overridden from the database (codes the engine does not know are reported).
    """
    base = default_parameters()
    rows = list(
        RegulatoryParameter.objects.filter(valid_from__lt=end_day)
        .exclude(valid_to__lte=first_day)
        .order_by("code", "valid_from")
    )
    tables = dict(base.tables)
    used: list[dict[str, Any]] = []
    unknown: list[str] = []
    by_code: dict[str, list[RegulatoryParameter]] = defaultdict(list)
    for row in rows:
        by_code[row.code].append(row)
    for code, code_rows in sorted(by_code.items()):
        table = tables.get(code)
        if table is None or table.kind is not Kind.DECIMAL:
            unknown.append(code)
            continue
        tables[code] = _overlay(table, code_rows)
        used += [
            {
                "id": row.pk,
                "code": row.code,
                "value": str(row.value.normalize()),
                "valid_from": row.valid_from.isoformat(),
                "valid_to": row.valid_to.isoformat() if row.valid_to else None,
            }
            for row in code_rows
        ]
    return Parameters(tables), {"engine": "defaults", "overrides": used, "ignored": unknown}


def _overlay(table: ParameterTable, rows: list[RegulatoryParameter]) -> ParameterTable:
    """Return the table with each row's period replacing the engine's on those dates."""
    periods: list[Validity] = []
    for period in table.periods:
        pieces: list[tuple[dt.date | None, dt.date | None]] = [(period.valid_from, period.valid_to)]
        for row in rows:
            cut: list[tuple[dt.date | None, dt.date | None]] = []
            for start, stop in pieces:
                if _before(start, row.valid_from):
                    cut.append((start, _min_end(stop, row.valid_from)))
                if row.valid_to is not None and _before(row.valid_to, stop):
                    cut.append((_max_start(start, row.valid_to), stop))
            pieces = [(a, b) for a, b in cut if a is None or b is None or a < b]
        periods += [Validity(a, b, period.value) for a, b in pieces]
    periods += [Validity(row.valid_from, row.valid_to, row.value.normalize()) for row in rows]
    return ParameterTable(
        table.name, table.kind, table.unit, table.source, tuple(periods), table.choices
    )


def _before(start: dt.date | None, moment: dt.date | None) -> bool:
    if moment is None:
        return True
    return start is None or start < moment


def _min_end(stop: dt.date | None, other: dt.date) -> dt.date:
    return other if stop is None else min(stop, other)


def _max_start(start: dt.date | None, other: dt.date) -> dt.date:
    return other if start is None else max(start, other)
