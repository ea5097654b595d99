"""The OpenAPI schema and its documentation: Swagger UI and a plain-HTML list."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.views import SpectacularAPIView

from cer.api.permissions import PUBLIC
from cer.api.schema import ApiSchemaGenerator
from cer.api.views.base import ApiMixin

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


class SchemaView(ApiMixin, SpectacularAPIView):
    """The OpenAPI 3 document of the API.

    YAML by default and for `Accept: application/vnd.oai.openapi` or `application/yaml`
    (or `?format=yaml`); JSON for `Accept: application/json` or
    `application/vnd.oai.openapi+json` (or `?format=json`, which picks the first JSON
    renderer: plain `application/json`).
    """

    access_rule = PUBLIC
    renderer_classes = [
        OpenApiYamlRenderer,
        OpenApiYamlRenderer2,
        OpenApiJsonRenderer2,
        OpenApiJsonRenderer,
    ]
    generator_class = ApiSchemaGenerator
    authentication_classes: list[Any] = []
    # The same public document for everyone, with no query behind it: nothing to meter.
    throttle_classes: list[Any] = []


def api_docs(request: HttpRequest) -> HttpResponse:
    """Serve Swagger UI on the schema from vendored files, under the site-wide CSP.

    The page is started by a static script (no inline code), and Swagger UI sets its
    styles through the DOM, which `style-src 'self'` allows: the policy stays unchanged.
    """
    return render(request, "api/swagger.html", {"title": spectacular_settings.TITLE})


api_docs.access_rule = PUBLIC  # type: ignore[attr-defined]


def api_operation_list(request: HttpRequest) -> HttpResponse:
    """List every operation of the schema in plain HTML: no JavaScript, no CDN."""
    schema = ApiSchemaGenerator().get_schema(request=None, public=True)
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in schema["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            groups.setdefault((operation.get("tags") or ["other"])[0], []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "description": operation.get("description", ""),
                    "deprecated": operation.get("deprecated", False),
                    "parameters": operation.get("parameters", []),
                    "body": ", ".join(sorted(body)),
                    "statuses": sorted(operation.get("responses", {})),
                    "anonymous": {} in operation.get("security", [{}]),
                }
            )
    return render(
        request,
        "api/docs.html",
        {
            "title": schema["info"]["title"],
            "info": schema["info"],
            "groups": sorted(groups.items()),
        },
    )


api_operation_list.access_rule = PUBLIC  # type: ignore[attr-defined]
