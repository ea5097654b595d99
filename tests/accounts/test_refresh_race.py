"""Two requests racing with the same refresh token: exactly one gets a new pair."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from tests.accounts.conftest import api_login

# serialized_rollback: like every transactional test here, it leaves the tables as the
# next one expects them (see tests/e2e/test_web_shell.py).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"
)
def test_parallel_refreshes_have_one_winner(plain_member):
    refresh = api_login("socia").json()["refresh"]
    start = threading.Barrier(4)
    statuses: list[int] = []

    def use_it() -> None:
        from django.db import connections

        start.wait()
        try:
            response = Client().post(
                "/api/v1/auth/refresh", {"refresh": refresh}, content_type="application/json"
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=use_it) for _n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 401, 401, 401]
