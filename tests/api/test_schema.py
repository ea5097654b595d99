"""The live OpenAPI schema, exercised with generated requests as the referente.

Every operation gets a handful of generated examples (kept small for CI); each answer
must not be a server error and must match the schema: status, content type and body,
including the documented error shape.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle

from cer.api.authentication import issue_tokens
from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Valid JSON may still break a domain rule (a tax code's check character, a POD that
# exists): such a 400 is right, so "schema-valid request rejected" is not a failure.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture
def keep_the_test_connection():
    # Called through WSGI, Django closes "old" connections at each request's start and
    # end; on PostgreSQL that would close the test's transaction. The test client does
    # the same disconnection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def referente_token(
    personas, world, other_world, zonal_price, monkeypatch, keep_the_test_connection
):
    # Generated requests come fast: lift the rate limits, they are tested elsewhere.
    for scope in ("anon", "user", "login"):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "100000/min")
    # The person in two communities (referente of one, plain member of the other): the
    # generated requests probe both sides of the boundary between communities.
    return issue_tokens(user=personas["two_communities"])["access"]


def test_the_schema_documents_every_api_route():
    paths = schema.raw_schema["paths"]

    assert "/api/v1/connection-points/{id}/readings" in paths
    assert "/api/users/{id}" in paths
    assert "Error" in schema.raw_schema["components"]["schemas"]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_generated_requests_get_answers_that_match_the_schema(case, referente_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {referente_token}"}, excluded_checks=EXCLUDED_CHECKS
    )
