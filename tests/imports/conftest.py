"""A community with two connection points whose PODs the fixture files use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests import factories

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
POD_A = "IT001E00000101"
POD_B = "IT001E00000102"
NOW = dt.datetime(2025, 11, 3, 9, 30, tzinfo=dt.UTC)


def fixture_bytes(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()


@pytest.fixture
def points(community):
    holder = factories.make_member()
    return {
        POD_A: factories.make_connection_point(community, holder, pod=POD_A),
        POD_B: factories.make_connection_point(community, holder, pod=POD_B),
    }
