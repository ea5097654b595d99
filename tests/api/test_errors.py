"""Bad input gets a 4xx in the one documented shape, naming the field; never a 500."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.api.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def referente_client(personas, world):
    return client_for(personas["referente"])


def _readings_url(world):
    return f"/api/v1/connection-points/{world.objects['connection_point'].pk}/readings"


def test_malformed_json_is_a_parse_error(referente_client, world):
    response = referente_client.post(
        _readings_url(world), b'{"readings": [', content_type="application/json"
    )

    assert_error(response, 400, "parse_error")


def test_json_with_nan_is_a_parse_error(referente_client, world):
    response = referente_client.post(
        _readings_url(world), b'{"readings": NaN}', content_type="application/json"
    )

    assert_error(response, 400, "parse_error")


def test_a_body_that_is_not_json_is_an_unsupported_media_type(referente_client, world):
    response = referente_client.post(_readings_url(world), "a=b", content_type="text/plain")

    assert_error(response, 415, "unsupported_media_type")


def test_an_unknown_field_is_named(referente_client, world):
    response = referente_client.post(
        _readings_url(world), {"readings": [], "colour": "red"}, format="json"
    )

    error = assert_error(response, 400, "invalid")
    assert "colour" in error["fields"]


def test_an_unknown_field_inside_a_list_item_is_named_with_its_index(referente_client, world):
    reading = {
        "hour_start": "2025-03-30T01:00:00+01:00",
        "injected_kwh": "1.000",
        "withdrawn_kwh": "0.000",
        "extra": 1,
    }

    response = referente_client.post(_readings_url(world), {"readings": [reading]}, format="json")

    error = assert_error(response, 400, "invalid")
    assert "readings[0].extra" in error["fields"]


def test_a_time_without_offset_is_refused(referente_client, world):
    reading = {"hour_start": "2025-03-30T01:00:00", "injected_kwh": "1", "withdrawn_kwh": "0"}

    response = referente_client.post(_readings_url(world), {"readings": [reading]}, format="json")

    error = assert_error(response, 400, "invalid")
    assert "readings[0].hour_start" in error["fields"]


def test_a_period_without_offset_is_refused_naming_the_parameter(referente_client, world):
    response = referente_client.get(
        _readings_url(world), {"from": "2025-03-30T00:00:00", "to": "2025-03-31T00:00:00Z"}
    )

    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["from"]


def test_a_missing_period_is_refused(referente_client, world):
    response = referente_client.get(_readings_url(world))

    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"from", "to"}


def test_wrong_types_are_named(referente_client, world):
    reading = {"hour_start": 12, "injected_kwh": 1.5, "withdrawn_kwh": [1]}

    response = referente_client.post(_readings_url(world), {"readings": [reading]}, format="json")

    error = assert_error(response, 400, "invalid")
    assert {
        "readings[0].hour_start",
        "readings[0].injected_kwh",
        "readings[0].withdrawn_kwh",
    } <= set(error["fields"])


def test_a_body_that_is_a_list_is_refused(referente_client, world):
    response = referente_client.post(_readings_url(world), [1, 2], format="json")

    assert_error(response, 400, "invalid")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_body_is_refused(referente_client, world):
    body = {"readings": [], "padding": "x" * 2000}

    response = referente_client.post(_readings_url(world), body, format="json")

    assert_error(response, 413, "body_too_large")


def test_an_unknown_path_is_a_json_404(referente_client):
    response = referente_client.get("/api/v1/no-such-thing")

    assert_error(response, 404, "not_found")


def test_a_wrong_method_is_a_405(referente_client):
    response = referente_client.delete("/api/v1/communities")

    assert_error(response, 405, "method_not_allowed")


def test_a_non_numeric_query_id_is_named(referente_client):
    response = referente_client.get("/api/v1/configurations", {"community": "abc"})

    error = assert_error(response, 400, "invalid")
    assert "community" in error["fields"]


def test_a_garbage_bearer_token_is_a_401(world):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = client.get("/api/v1/me")

    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_seed_invoice_path_names_the_missing_community_in_the_error_shape(
    referente_client,
):
    response = referente_client.post("/api/invoices", {}, format="json")

    assert "community" in assert_error(response, 400, "invalid")["fields"]


def test_a_null_character_in_a_query_parameter_is_named(referente_client):
    response = referente_client.get("/api/v1/audit-entries", {"code": "a\x00b"})

    assert "code" in assert_error(response, 400, "invalid")["fields"]
