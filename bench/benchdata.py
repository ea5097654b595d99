"""What the database benchmarks share: a throw-away PostgreSQL database and a community.

Imported by the bench_*.py scripts (run as `python bench/bench_x.py`, so this folder is on
the path); it is not a benchmark itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql


@contextmanager
def throwaway_database(suffix: str) -> Iterator[None]:
    """Point DATABASE_URL at a new database next to the one it names; drop it at the end.

    Exits with a message when DATABASE_URL is not PostgreSQL (`make bench` sets it).
    """
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("this benchmark needs DATABASE_URL pointing at PostgreSQL (make bench sets it).")
    base, _, name = url.rpartition("/")
    bench_db = f"{name.split('?')[0] or 'postgres'}{suffix}"
    maintenance_url = f"{base}/postgres"
    drop = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(bench_db))
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(bench_db)))
    os.environ["DATABASE_URL"] = f"{base}/{bench_db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        yield
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(maintenance_url, autocommit=True) as conn:
            conn.execute(drop)


def make_community(*, status: str = "DRAFT") -> tuple[Any, Any]:
    """Create the benchmark community in Spinea with one configuration; return both."""
    from cer.communities.models import Community, Configuration
    from cer.core.models import Municipality

    community = Community.objects.create(
        name="CER Benchmark",
        kind="CER",
        legal_form="THIRD_SECTOR",
        fiscal_code="00743110157",
        seat_address="Piazza Marconi 1",
        seat_municipality=Municipality.objects.get(pk="027038"),
    )
    configuration = Configuration.objects.create(
        community=community,
        name="Cabina",
        primary_substation="AC001E00001",
        market_zone="NORD",
        region="Veneto",
        status=status,
    )
    return community, configuration


def make_company_holder() -> Any:
    """Create the one legal person that holds every benchmark connection point."""
    from cer.core.models import Municipality
    from cer.members.models import Member

    return Member.objects.create(
        kind="LEGAL",
        category="SME",
        company_name="Benchmark Srl",
        fiscal_code="00743110157",
        email="bench@example.org",
        address="Via Roma 1",
        municipality=Municipality.objects.get(pk="027038"),
    )


def with_blind_indexes(members: Iterable[Any]) -> Iterator[Any]:
    """Yield unsaved members with their lookup indexes filled: bulk_create skips save()."""
    for member in members:
        member.sync_indexes()
        yield member
