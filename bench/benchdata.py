"""What the database benchmarks share: a throw-away database, a community and its members.

Imported by the bench_*.py scripts (run as `python bench/bench_x.py`, so this folder is on
the path); it is not a benchmark itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql


def production_environment() -> dict[str, str]:
    """The settings a deployment runs with (DEBUG off), for the benchmarks to measure.

    DEBUG on keeps the text of every SQL statement a process runs (connection.queries):
    for the ingestion and settlement statements, which carry tens of thousands of values,
    that alone costs a tenth of the time. A deployment never runs so, and neither do the
    benchmarks. Generated secrets; plain HTTP on loopback.
    """
    return {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
        "STATIC_ROOT": tempfile.mkdtemp(prefix="cer-bench-static-"),
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def throwaway_database(suffix: str) -> Iterator[None]:
    """Point DATABASE_URL at a new database next to the one it names; drop it at the end.

    Sets the production environment (production_environment) for what follows, this
    process and the ones it starts. Exits with a message when DATABASE_URL is not
    PostgreSQL (`make bench` sets it).
    """
    os.environ.update(production_environment())
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


def make_members_with_points(
    *,
    community: Any,
    configuration: Any,
    count: int,
    producers: int,
    user: Any,
    municipality: Any,
    valid_from: dt.date,
    pod_of: Callable[[int], str],
    last_name_of: Callable[[int], str],
    plant_of: Callable[[int], tuple[str, Decimal, dt.date]],
    prosumer_kinds: bool = False,
) -> tuple[list[Any], list[Any]]:
    """Create `count` members of the community, one connection point each; return both lists.

    The first member is the community's referente and logs in as `user`; the first
    `producers` points inject, each with one photovoltaic plant (`plant_of(n)` gives its
    name, power [kW] and entry into service). With `prosumer_kinds`, the producers'
    memberships are PROSUMER and the others CONSUMER (else the model's default).
    """
    from cer.members.models import Member, Membership
    from cer.plants.models import ConnectionPoint, Plant

    members = Member.objects.bulk_create(
        with_blind_indexes(
            Member(
                kind="NATURAL",
                category="HOUSEHOLD",
                first_name="Socio",
                last_name=last_name_of(n),
                fiscal_code=f"BNCH{n:012d}",
                email=f"socio{n}@example.org",
                address="Via Roma 1",
                municipality=municipality,
                user=user if n == 0 else None,
            )
            for n in range(count)
        )
    )
    Membership.objects.bulk_create(
        Membership(
            member=member,
            community=community,
            role="REFERENTE" if n == 0 else "MEMBER",
            valid_from=valid_from,
            iban="IT60X0542811101000000123456",
            **({"kind": "PROSUMER" if n < producers else "CONSUMER"} if prosumer_kinds else {}),
        )
        for n, member in enumerate(members)
    )
    points = ConnectionPoint.objects.bulk_create(
        ConnectionPoint(
            pod=pod_of(n),
            configuration=configuration,
            holder=member,
            contracted_power_kw=Decimal("6"),
            has_injection=n < producers,
        )
        for n, member in enumerate(members)
    )
    plants = []
    for n, point in enumerate(points[:producers]):
        name, power_kw, entry_date = plant_of(n)
        plants.append(
            Plant(
                connection_point=point,
                owner=point.holder,
                name=name,
                source="PV",
                power_kw=power_kw,
                entry_into_service_date=entry_date,
            )
        )
    Plant.objects.bulk_create(plants)
    return members, points


def pass_second_factor(session: Any, user: Any) -> None:
    """Mark a logged-in session as the login view leaves it once both factors are passed.

    A referente must use a second factor: the session names a confirmed TOTP device, the
    user's privilege fingerprint and password hash. The caller saves or creates it.
    """
    from django.contrib.auth import HASH_SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cer.accounts.policy import privilege_fingerprint
    from cer.accounts.views import PRIVILEGES_KEY

    device, _created = TOTPDevice.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[PRIVILEGES_KEY] = privilege_fingerprint(user)


def settle_statistics(*tables: str) -> None:
    """VACUUM and ANALYZE tables just filled by COPY, as autovacuum would soon after.

    A database the platform has run for a while has had its bulk-loaded tables vacuumed
    (visibility map, hint bits) and analysed; timings taken right after a COPY would
    otherwise include that work, whose cost follows the whole table, not what is read.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
