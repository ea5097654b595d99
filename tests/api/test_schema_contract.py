"""The served OpenAPI document is a valid OpenAPI 3 contract that lists every API route.

The routes are read from the URL configuration itself, so an endpoint added under
/api/ without a schema (a plain Django view, a view the generator skips) fails here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

# Routes under /api/ that are not operations of the API: the document and its pages,
# and the JSON 404 for every other path.
NOT_OPERATIONS = {"schema", "docs", "docs-list", "not-found"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
_CONVERTER = re.compile(r"<(?:[^>:]+:)?[^>]+>")
_PARAMETER = re.compile(r"\{[^}]+\}")
# libyaml's safe loader when built with it: the document is large.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _api_routes() -> dict[str, set[str]]:
    """Map each path template under /api/ to the names of the routes that serve it."""
    routes: dict[str, set[str]] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
                continue
            if not isinstance(entry, URLPattern):
                continue
            path = prefix + str(entry.pattern)
            if not path.startswith("api/"):
                continue
            if entry.name in NOT_OPERATIONS:
                continue
            assert isinstance(entry.pattern, RoutePattern), f"{path}: use path(), not re_path()"
            template = "/" + _CONVERTER.sub("{}", path)
            routes.setdefault(template, set()).add(entry.name or "")

    walk(get_resolver().url_patterns, "")
    return routes


def _shape(path: str) -> str:
    # Parameter names differ (drf-spectacular calls a pk `id`); the shape does not.
    return _PARAMETER.sub("{}", path)


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get("/api/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("url", "accept", "content_type"),
    [
        ("/api/schema/", "application/json", "application/json"),
        ("/api/schema/?format=json", "", "application/json"),
        ("/api/schema/", "application/vnd.oai.openapi+json", "application/vnd.oai.openapi+json"),
    ],
)
def test_the_schema_is_served_as_json_and_validates_as_openapi_3(client, url, accept, content_type):
    headers = {"Accept": accept} if accept else {}

    response = client.get(url, headers=headers)

    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0] == content_type
    spec = json.loads(response.content)
    assert spec["openapi"].startswith("3.")
    validate(spec)


@pytest.mark.parametrize(
    ("url", "accept", "content_type"),
    [
        ("/api/schema/", "", "application/vnd.oai.openapi"),
        ("/api/schema/", "application/vnd.oai.openapi", "application/vnd.oai.openapi"),
        ("/api/schema/", "application/yaml", "application/yaml"),
        ("/api/schema/?format=yaml", "", "application/vnd.oai.openapi"),
    ],
)
def test_the_schema_is_served_as_yaml_by_default_and_validates(client, url, accept, content_type):
    headers = {"Accept": accept} if accept else {}

    response = client.get(url, headers=headers)

    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0] == content_type
    spec = yaml.load(response.content, Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)
    validate(spec)


def test_every_api_route_is_in_the_schema(document):
    documented = {_shape(path) for path in document["paths"]}
    routes = _api_routes()

    missing = {path: names for path, names in routes.items() if path not in documented}

    assert len(routes) > 40
    assert missing == {}, f"API routes missing from the OpenAPI document: {missing}"


def test_every_operation_names_security_schemes_the_document_defines(document):
    schemes = set(document["components"]["securitySchemes"])
    undefined = [
        f"{method.upper()} {path}: {name}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
        for requirement in operation.get("security", [])
        for name in requirement
        if name not in schemes
    ]

    assert undefined == []


@pytest.mark.parametrize("path", ["/api/plants/{plant_id}/readings", "/api/points/{pod}/readings"])
def test_the_device_endpoints_document_their_authentication_and_bodies(document, path):
    operation = document["paths"][path]["post"]
    schemes = document["components"]["securitySchemes"]

    assert {"deviceBasicAuth": []} in operation["security"]
    assert {"personalTokenAuth": []} in operation["security"]
    assert (schemes["deviceBasicAuth"]["type"], schemes["deviceBasicAuth"]["scheme"]) == (
        "http",
        "basic",
    )
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/DeviceReadings"}
    responses = operation["responses"]
    assert responses["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/IngestOutcome"
    }
    for status in ("400", "401", "403", "429"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/IngestError"}, status
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "Retry-After" in responses["429"]["headers"]
