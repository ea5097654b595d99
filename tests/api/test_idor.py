"""A manager or member of one community tries the ids of another community's objects: 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cer.documents.models import Document
from tests.api.conftest import assert_error, client_for
from tests.api.routes import SAMPLE_ARGUMENTS, WORLD_KEYS, own_api_routes

pytestmark = pytest.mark.django_db

BODIES = {"post": {}, "put": {}, "patch": {"name": "x"}, "delete": None, "get": None}


@pytest.mark.parametrize("persona", ["referente", "administrator", "member"])
def test_every_detail_endpoint_hides_another_communitys_objects(
    persona, personas, world, other_world
):
    client = client_for(personas[persona])
    leaks = []
    for route in own_api_routes():
        if route.rule.kind != "object":
            continue
        kwargs = {name: SAMPLE_ARGUMENTS.get(name) for name in route.arguments}
        kwargs["pk"] = other_world.objects[WORLD_KEYS[route.rule.model]].pk
        url = reverse(route.name, kwargs=kwargs)
        for method in route.methods:
            response = getattr(client, method)(url, BODIES[method], format="json")
            if response.status_code != 404:
                leaks.append(f"{method.upper()} {url}: {response.status_code}")
            else:
                assert_error(response, 404, "not_found")

    assert leaks == []


def test_an_id_that_never_existed_and_a_foreign_id_answer_alike(personas, world, other_world):
    client = client_for(personas["referente"])
    foreign = client.get(f"/api/v1/plants/{other_world.objects['plant'].pk}")
    missing = client.get("/api/v1/plants/999999")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_lists_show_only_the_users_own_community(personas, world, other_world):
    client = client_for(personas["referente"])
    expectations = {
        "/api/v1/communities": world.community.pk,
        "/api/v1/plants": world.objects["plant"].pk,
        "/api/v1/connection-points": world.objects["connection_point"].pk,
        "/api/v1/mqtt/users": world.objects["device"].pk,
        "/api/v1/audit-entries": world.objects["audit_entry"].pk,
    }
    foreign = {
        "/api/v1/communities": other_world.community.pk,
        "/api/v1/plants": other_world.objects["plant"].pk,
        "/api/v1/connection-points": other_world.objects["connection_point"].pk,
        "/api/v1/mqtt/users": other_world.objects["device"].pk,
        "/api/v1/audit-entries": other_world.objects["audit_entry"].pk,
    }

    for url, own in expectations.items():
        ids = {row["id"] for row in client.get(url).json()["results"]}
        assert own in ids, url
        assert foreign[url] not in ids, url


@pytest.mark.parametrize(
    ("url", "field", "key"),
    [
        ("/api/v1/plants", "connection_point", "connection_point"),
        ("/api/v1/connection-points", "configuration", "configuration"),
        ("/api/v1/mqtt/users", "connection_point", "connection_point"),
        ("/api/v1/memberships", "community", "community"),
    ],
)
def test_a_body_naming_another_communitys_object_is_refused_naming_the_field(
    personas, world, other_world, url, field, key
):
    client = client_for(personas["referente"])

    response = client.post(url, {field: other_world.objects[key].pk}, format="json")

    error = assert_error(response, 400, "invalid")
    assert field in error["fields"]


def test_a_document_upload_naming_another_community_is_refused_naming_the_field(
    personas, world, other_world
):
    client = client_for(personas["referente"])
    before = Document.objects.filter(community=other_world.community).count()

    response = client.post(
        "/api/documents",
        {
            "community": other_world.community.pk,
            "kind": "MINUTES",
            "title": "Verbale",
            "document_date": "2025-03-30",
            "file": SimpleUploadedFile("v.pdf", b"%PDF-1.4\n", "application/pdf"),
        },
        format="multipart",
    )

    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["community"]
    assert Document.objects.filter(community=other_world.community).count() == before


def test_a_new_version_of_another_communitys_document_is_refused_naming_the_field(
    personas, world, other_world
):
    client = client_for(personas["referente"])
    foreign = other_world.objects["document"]

    response = client.post(
        f"/api/v1/communities/{world.community.pk}/documents",
        {
            "document": foreign.pk,
            "file": SimpleUploadedFile("v.pdf", b"%PDF-1.4\n", "application/pdf"),
        },
        format="multipart",
    )

    error = assert_error(response, 400, "invalid")
    assert "document" in error["fields"]
    assert foreign.versions.count() == 1
