"""Curve imports into HourlyReading: idempotent, superseding, with stored rejections."""

from __future__ import annotations

import pytest
from django.db import connection

from cer.imports import services
from cer.imports.curves import ColumnMapping
from cer.imports.models import ImportBatch, ImportKind, ImportStatus
from cer.metering import bulk_writes
from cer.metering.models import HourlyReading, ReadingsVersion
from cer.metering.versions import readings_version
from tests.imports.conftest import NOW, POD_A, POD_B, fixture_bytes


def import_file(community, name, **kwargs):
    return services.import_curves(
        community=community,
        data=fixture_bytes("curves", name),
        file_name=name,
        now=NOW,
        **kwargs,
    )


def snapshot():
    return list(
        HourlyReading.objects.order_by("pk").values_list(
            "pk", "connection_point_id", "hour_start", "injected_wh", "withdrawn_wh", "source"
        )
    )


@pytest.mark.django_db
def test_importing_a_curve_file_writes_hourly_dso_readings(community, points):
    batch = import_file(community, "edistribuzione_day_rows_october.csv")

    assert batch.status == ImportStatus.DONE
    assert batch.kind == ImportKind.CURVES_EDISTRIBUZIONE
    assert (batch.rows_accepted, batch.rows_rejected) == (12, 0)
    assert batch.intervals_inserted == 2 * (24 + 25 + 24)
    assert HourlyReading.objects.filter(source="DSO").count() == 146
    reading = HourlyReading.objects.get(
        connection_point=points[POD_A], hour_start="2025-10-26T01:00:00Z"
    )
    assert (reading.withdrawn_wh, reading.injected_wh, reading.quality) == (58, 4054, "OK")


@pytest.mark.django_db
def test_importing_the_same_file_twice_changes_nothing(community, points):
    first = import_file(community, "edistribuzione_day_rows_march.csv")
    before = snapshot()

    second = import_file(community, "edistribuzione_day_rows_march.csv")

    assert snapshot() == before
    assert (second.intervals_inserted, second.intervals_superseded) == (0, 0)
    assert second.intervals_unchanged == first.intervals_inserted == 94
    assert second.sha256 == first.sha256


@pytest.mark.django_db
def test_a_corrected_file_supersedes_only_the_hours_it_changes(community, points):
    import_file(community, "edistribuzione_day_rows_october.csv")
    original = fixture_bytes("curves", "edistribuzione_day_rows_october.csv").decode()
    # Correct one quarter-hour of POD A's withdrawal on 26/10 (the 3rd data row).
    lines = original.split("\r\n")
    cells = lines[3].split(";")
    assert cells[:3] == [POD_A, "26/10/2025", "Prelievo"]
    cells[3 + 5] = "0,106"  # interval 6 was 0,006 kWh: +100 Wh in hour 1 (23:00Z)
    lines[3] = ";".join(cells)

    batch = services.import_curves(
        community=community, data="\r\n".join(lines).encode(), file_name="corrected.csv", now=NOW
    )

    assert (batch.intervals_inserted, batch.intervals_superseded) == (0, 1)
    assert batch.intervals_unchanged == 145
    reading = HourlyReading.objects.get(
        connection_point=points[POD_A], hour_start="2025-10-25T23:00:00Z"
    )
    assert (reading.withdrawn_wh, reading.injected_wh) == (26 + 100, 4022)


@pytest.mark.django_db
def test_a_withdrawal_only_file_keeps_the_injections_already_imported(community, points):
    import_file(community, "edistribuzione_day_rows_october.csv")

    batch = import_file(community, "sii_pdo_october.xml")

    assert batch.kind == ImportKind.CURVES_SII
    assert batch.intervals_superseded == 0
    reading = HourlyReading.objects.get(
        connection_point=points[POD_A], hour_start="2025-10-26T01:00:00Z"
    )
    assert (reading.withdrawn_wh, reading.injected_wh) == (58, 4054)


@pytest.mark.django_db
def test_rejected_rows_are_stored_with_line_field_and_reason(community, points):
    batch = import_file(community, "edistribuzione_with_errors.csv")

    stored = list(batch.rejected_rows.values_list("line_number", "field", "reason"))
    assert (batch.rows_accepted, batch.rows_rejected) == (2, 5)
    assert stored[0] == (3, "POD", "POD IT001E99999999 is not a connection point of this community")
    assert [line for line, _, _ in stored] == [3, 4, 5, 6, 7]
    assert batch.rejected_rows.get(line_number=6).raw_line.startswith(POD_A + ";04/04/2025;")


@pytest.mark.django_db
def test_a_pod_of_another_community_is_rejected(community, points, outsider):
    from cer.communities.models import Community

    other = Community.objects.exclude(pk=community.pk).get()

    batch = import_file(other, "edistribuzione_day_rows_march.csv")

    assert batch.rows_accepted == 0
    assert batch.rows_rejected == 8
    assert HourlyReading.objects.count() == 0


@pytest.mark.django_db
def test_a_file_with_the_wrong_header_is_refused_and_recorded(community, points):
    with pytest.raises(services.ImportRefused) as refusal:
        import_file(community, "wrong_header.csv")

    batch = ImportBatch.objects.get()
    assert refusal.value.batch == batch
    assert batch.status == ImportStatus.REFUSED
    assert "No header row with a POD column" in batch.message
    assert HourlyReading.objects.count() == 0


@pytest.mark.django_db
def test_column_mapping_import_writes_the_march_day(community, points):
    mapping = ColumnMapping.from_dict(
        {
            "pod": "meter",
            "timestamp": "local time",
            "withdrawn": "import Wh",
            "injected": "export Wh",
            "unit": "Wh",
            "decimal": ".",
            "delimiter": ",",
        }
    )

    batch = import_file(community, "mapped_march.csv", mapping=mapping)

    assert batch.kind == ImportKind.CURVES_MAPPED
    assert batch.intervals_inserted == 23
    assert HourlyReading.objects.filter(connection_point=points[POD_B]).count() == 23


@pytest.mark.django_db
def test_staging_uses_copy_on_postgresql_and_batched_inserts_otherwise(
    community, points, monkeypatch
):
    calls = []
    for name in ("_copy_stage", "_insert_stage"):
        original = getattr(bulk_writes, name)
        monkeypatch.setattr(
            bulk_writes,
            name,
            lambda cursor, hourly, _name=name, _original=original: (
                calls.append(_name),
                _original(cursor, hourly),
            ),
        )

    import_file(community, "edistribuzione_interval_rows_october.csv")

    expected = "_copy_stage" if connection.vendor == "postgresql" else "_insert_stage"
    assert calls == [expected]
    assert HourlyReading.objects.count() == 25


@pytest.mark.django_db
def test_an_import_that_writes_readings_makes_the_dashboards_stale(community, points):
    before = readings_version(community.pk)
    import_file(community, "edistribuzione_day_rows_march.csv")
    after_first = ReadingsVersion.objects.get(community=community).version

    import_file(community, "edistribuzione_day_rows_march.csv")

    assert after_first == before + 1
    # Re-importing the same file writes nothing, so the cached figures stay valid.
    assert ReadingsVersion.objects.get(community=community).version == after_first
