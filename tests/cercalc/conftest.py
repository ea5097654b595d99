"""Fixtures for the engine tests: the ENGINE_IO.md worked case and a way to settle a case dict."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cercalc.case import parse_case, result_to_json, settle_case
from cercalc.settle import SettlementResult

EXAMPLE_CASE: dict[str, Any] = {
    "configuration": {"type": "CER", "region": "Toscana", "primary_substation": "AC001E00123"},
    "parameters": {"valorisation_eur_per_mwh": "10.57"},
    "plants": [
        {
            "id": "PV1",
            "source": "PV",
            "power_kw": "45",
            "entry_into_service": "2024-04-10",
            "region": "Toscana",
            "existing": False,
            "capital_grant_pct": "0",
            "superbonus_kw": "0",
            "obligation_kw": "0",
        }
    ],
    "consumers": [
        {"id": "C1", "category": "household"},
        {"id": "C2", "category": "enterprise"},
    ],
    "hours": [
        {
            "start": "2024-06-03T11:00:00+02:00",
            "zonal_price_eur_per_mwh": "140.00",
            "injected_kwh": {"PV1": "30.000"},
            "withdrawn_kwh": {"C1": "7.000", "C2": "15.000"},
        },
        {
            "start": "2024-06-03T12:00:00+02:00",
            "zonal_price_eur_per_mwh": "190.00",
            "injected_kwh": {"PV1": "10.000"},
            "withdrawn_kwh": {"C1": "8.000", "C2": "10.000"},
        },
    ],
}


@pytest.fixture
def example_case() -> dict[str, Any]:
    """The input of the ENGINE_IO.md worked example, free to modify."""
    return copy.deepcopy(EXAMPLE_CASE)


@pytest.fixture
def run_case(tmp_path: Path) -> Callable[[dict[str, Any]], tuple[SettlementResult, dict[str, Any]]]:
    """Settle a case dict; return the result and the decoded JSON output."""

    def run(document: dict[str, Any]) -> tuple[SettlementResult, dict[str, Any]]:
        result = settle_case(parse_case(document, base_dir=tmp_path))
        return result, json.loads(result_to_json(result))

    return run
