"""The upload page: a community's managers import curves and read each import's report."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cer.imports.models import ImportBatch, ImportStatus
from cer.metering.models import HourlyReading
from tests.imports.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def upload(name):
    return SimpleUploadedFile(name, fixture_bytes("curves", name), content_type="text/csv")


def page(community):
    return reverse("imports:curve_upload", kwargs={"community_id": community.pk})


def test_a_referente_imports_a_curve_file_and_reads_the_report(
    client, community, points, referente
):
    client.force_login(referente)

    response = client.post(
        page(community), {"file": upload("edistribuzione_with_errors.csv"), "format": "auto"}
    )

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{page(community)}?batch={batch.pk}"
    assert HourlyReading.objects.count() == 48
    report = client.get(response["Location"]).content.decode()
    assert "IT001E99999999 is not a connection point of this community" in report


def test_a_refused_file_shows_the_reason(client, community, points, referente):
    client.force_login(referente)

    response = client.post(
        page(community), {"file": upload("wrong_header.csv"), "format": "auto"}, follow=True
    )

    assert ImportBatch.objects.get().status == ImportStatus.REFUSED
    assert "No header row with a POD column" in response.content.decode()


def test_the_mapped_layout_needs_a_mapping(client, community, points, referente):
    client.force_login(referente)

    response = client.post(
        page(community), {"file": upload("mapped_march.csv"), "format": "mapped"}
    )

    assert response.status_code == 200
    assert not ImportBatch.objects.exists()


def test_a_plain_member_may_not_open_the_upload_page(client, community, member_user):
    client.force_login(member_user)

    response = client.get(page(community))

    assert response.status_code == 403


def test_a_report_of_another_community_is_not_found(client, community, points, referente):
    from cer.communities.models import Community

    other = Community.objects.create(
        name="Altra",
        kind="CER",
        legal_form="ASSOCIATION",
        fiscal_code="00743110157",
        seat_address="Via 1",
        seat_municipality=community.seat_municipality,
    )
    foreign = ImportBatch.objects.create(
        kind="EDIS",
        file_name="x.csv",
        sha256="0" * 64,
        community=other,
        started_at="2025-11-03T09:30Z",
    )
    client.force_login(referente)

    response = client.get(f"{page(community)}?batch={foreign.pk}")

    assert response.status_code == 404
