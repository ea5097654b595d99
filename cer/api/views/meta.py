"""The OpenAPI schema, a readable list of operations, aliases of the first API, and stubs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cer.api.errors import NotImplementedYet
from cer.api.permissions import LOGGED_IN, PUBLIC
from cer.api.schema import ApiSchemaGenerator
from cer.api.views.base import ApiMixin, ApiView

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


class SchemaView(ApiMixin, SpectacularAPIView):
    """The OpenAPI 3 document of the API (JSON; YAML with Accept: application/yaml)."""

    access_rule = PUBLIC
    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]
    generator_class = ApiSchemaGenerator
    authentication_classes: list[Any] = []


def api_docs(request: HttpRequest) -> HttpResponse:
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


api_docs.access_rule = PUBLIC  # type: ignore[attr-defined]


# --- stubs for features that have not shipped -------------------------------------------


class _EmptyBody(serializers.Serializer):
    pass


@extend_schema(
    tags=["billing"],
    request=_EmptyBody,
    responses={501: None},
    description="Issuing invoices: not available yet; always answers 501 not_implemented.",
)
class InvoiceCreate(ApiView):
    access_rule = LOGGED_IN

    def post(self, request: Request) -> Response:
        raise NotImplementedYet(_("Invoicing is not available yet."))


@extend_schema(
    tags=["documents"],
    request=_EmptyBody,
    responses={501: None},
    description="Uploading documents: not available yet; always answers 501 not_implemented.",
)
class DocumentCreate(ApiView):
    access_rule = LOGGED_IN

    def post(self, request: Request) -> Response:
        raise NotImplementedYet(_("Documents are not available in the API yet."))
