"""Curve files to hourly energies, without a database: every layout, both DST days.

The fixture files hold, for interval k of each local day (0-based, time order), a
withdrawal of k + 1 Wh and an injection of 1000 + k Wh, written in kWh. Hour h of the
day therefore withdraws 16h + 10 Wh and injects 4006 + 16h Wh.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cer.imports import curves
from cer.imports.curves import ColumnMapping, FileRefused, aggregate_hours, parse_curve_file
from tests.imports.conftest import POD_A, POD_B, fixture_bytes

POD_IDS = {POD_A: 1, POD_B: 2}


def hours_of(hourly, point_id):
    result = {}
    for point, start, injected, withdrawn, has_inj, has_wdr in zip(
        hourly.point_id.tolist(),
        hourly.hour_start_s.tolist(),
        hourly.injected_wh.tolist(),
        hourly.withdrawn_wh.tolist(),
        hourly.has_injected.tolist(),
        hourly.has_withdrawn.tolist(),
        strict=True,
    ):
        if point == point_id:
            stamp = dt.datetime.fromtimestamp(start, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
            result[stamp] = (withdrawn if has_wdr else None, injected if has_inj else None)
    return result


def read(name, **kwargs):
    parsed = parse_curve_file(fixture_bytes("curves", name), pod_ids=POD_IDS, **kwargs)
    return parsed, aggregate_hours(parsed)


def test_march_change_over_day_has_23_hours_from_clock_labelled_columns():
    parsed, hourly = read("edistribuzione_day_rows_march.csv")

    hours = hours_of(hourly, 1)
    march_30 = [h for h in hours if "2025-03-29T23:00Z" <= h < "2025-03-30T22:00Z"]
    assert parsed.rejections == ()
    assert len(march_30) == 23
    assert hours["2025-03-30T00:00Z"] == (26, 4022)  # 01:00 local, +01:00
    assert hours["2025-03-30T01:00Z"] == (42, 4038)  # 03:00 local, +02:00: 02:00 is skipped
    assert hours["2025-03-30T21:00Z"] == (16 * 22 + 10, 4006 + 16 * 22)


def test_ordinary_day_has_24_hours_starting_at_local_midnight_in_utc():
    _, hourly = read("edistribuzione_day_rows_march.csv")

    hours = hours_of(hourly, 2)
    march_29 = [h for h in hours if "2025-03-28T23:00Z" <= h < "2025-03-29T23:00Z"]
    assert len(march_29) == 24
    assert hours["2025-03-28T23:00Z"] == (10, 4006)


def test_october_change_over_day_has_25_hours_from_numbered_columns():
    parsed, hourly = read("edistribuzione_day_rows_october.csv")

    hours = hours_of(hourly, 1)
    october_26 = [h for h in hours if "2025-10-25T22:00Z" <= h < "2025-10-26T23:00Z"]
    assert parsed.rejections == ()
    assert len(october_26) == 25
    assert hours["2025-10-26T00:00Z"] == (42, 4038)  # first 02:00, +02:00
    assert hours["2025-10-26T01:00Z"] == (58, 4054)  # second 02:00, +01:00
    assert hours["2025-10-26T22:00Z"] == (16 * 24 + 10, 4006 + 16 * 24)


def test_repeated_october_hour_in_interval_rows_is_told_apart_by_order():
    parsed, hourly = read("edistribuzione_interval_rows_october.csv")

    hours = hours_of(hourly, 1)
    assert parsed.data_lines == 100
    assert parsed.rejections == ()
    assert len(hours) == 25
    assert hours["2025-10-26T00:00Z"] == (42, 4038)
    assert hours["2025-10-26T01:00Z"] == (58, 4054)


def test_sii_flow_reads_each_ea_day_with_e1_to_e100():
    parsed, hourly = read("sii_pdo_october.xml")

    hours = hours_of(hourly, 1)
    assert parsed.layout == "SII measurement flow"
    assert len(hours) == 24 + 25
    assert hours["2025-10-26T01:00Z"] == (58, None)  # Ea is withdrawal only
    assert hourly.has_injected.any() == False  # noqa: E712


def test_mapped_csv_in_local_time_and_wh_handles_the_march_gap():
    mapping = ColumnMapping.from_dict(
        {
            "pod": "meter",
            "timestamp": "local time",
            "timestamp_format": "%d/%m/%Y %H:%M",
            "withdrawn": "import Wh",
            "injected": "export Wh",
            "unit": "Wh",
            "decimal": ".",
            "delimiter": ",",
        }
    )

    parsed, hourly = read("mapped_march.csv", mapping=mapping)

    hours = hours_of(hourly, 2)
    assert parsed.rejections == ()
    assert len(hours) == 23
    assert hours["2025-03-30T01:00Z"] == (42, 4038)


def test_mapped_csv_with_utc_end_marks_and_two_timestamp_columns():
    data = (
        "pod|day|time|kwh_in\n"
        + "".join(
            f"{POD_A}|2025-10-26|{h:02d}:{m:02d}|0.250\n"
            for h in range(1, 3)
            for m in (0, 15, 30, 45)
        )
    ).encode()
    mapping = ColumnMapping.from_dict(
        {
            "pod": "pod",
            "timestamp": ["day", "time"],
            "timestamp_format": "%Y-%m-%d %H:%M",
            "time_zone": "UTC",
            "timestamp_marks": "end",
            "withdrawn": "kwh_in",
            "decimal": ".",
            "delimiter": "|",
        }
    )

    hourly = aggregate_hours(parse_curve_file(data, pod_ids=POD_IDS, mapping=mapping))

    # Ends 01:00..02:45 UTC are starts 00:45..02:30: only the hour 01:00Z is complete.
    assert hours_of(hourly, 1) == {"2025-10-26T01:00Z": (1000, None)}
    assert len(hourly.rejections) == 2


def test_quarter_hours_in_kwh_sum_to_exact_watt_hours():
    header = "POD;Data;Ora;Prelievo (kWh)\n"
    body = "".join(
        f"{POD_A};01/04/2025;00:{m:02d};{value}\n"
        for m, value in zip((0, 15, 30, 45), ("0,1", "0,2", "0,0004", "0,0001"), strict=True)
    )

    hourly = aggregate_hours(parse_curve_file((header + body).encode(), pod_ids=POD_IDS))

    # 100 + 200 + 0.4 + 0.1 Wh = 300.5 Wh, rounded half-up once for the hour.
    assert hours_of(hourly, 1) == {"2025-03-31T22:00Z": (301, None)}


def test_each_bad_line_is_rejected_with_its_line_field_and_reason():
    parsed, hourly = read("edistribuzione_with_errors.csv")

    found = [(r.line, r.field, r.reason) for r in parsed.rejections]
    assert found == [
        (3, "POD", "POD IT001E99999999 is not a connection point of this community"),
        (4, "Data", 'date "2025-04-02" is not dd/mm/yyyy'),
        (5, "6", 'negative energy: "-0,004"'),
        (6, "8", 'not a number: "n/d"'),
        (7, "columns", "4 columns instead of 98"),
    ]
    assert parsed.data_lines == 7
    assert parsed.rejected_lines == 5
    assert len(hours_of(hourly, 1)) == 24
    assert len(hours_of(hourly, 2)) == 24


def test_an_october_day_in_a_96_column_clock_file_is_rejected_not_guessed():
    header = "POD;Data;" + ";".join(f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, 15))
    row = f"{POD_A};26/10/2025;" + ";".join(["0,001"] * 96)

    parsed = parse_curve_file(f"{header}\n{row}\n".encode(), pod_ids=POD_IDS)

    (rejection,) = parsed.rejections
    assert rejection.line == 2
    assert "second occurrence" in rejection.reason


def test_a_value_in_the_missing_march_hour_is_rejected():
    header = "POD;Data;" + ";".join(f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, 15))
    row = f"{POD_A};30/03/2025;" + ";".join(["0,001"] * 96)

    parsed = parse_curve_file(f"{header}\n{row}\n".encode(), pod_ids=POD_IDS)

    (rejection,) = parsed.rejections
    assert (rejection.field, rejection.reason) == (
        "02:00",
        "value present but 02:00 does not exist on 30/03/2025 (DST change)",
    )


def test_missing_quarter_hours_make_the_hour_incomplete_and_rejected():
    header = "POD;Data;Ora;Prelievo\n"
    body = "".join(f"{POD_A};01/04/2025;00:{m:02d};0,010\n" for m in (0, 15, 30))

    hourly = aggregate_hours(parse_curve_file((header + body).encode(), pod_ids=POD_IDS))

    (rejection,) = hourly.rejections
    assert len(hourly) == 0
    assert rejection.line == 2
    assert "45 minutes of withdrawn energy instead of 60 (missing intervals)" in rejection.reason


def test_a_nonexistent_local_time_is_rejected_in_interval_rows():
    header = "POD;Data;Ora;Prelievo\n"
    body = f"{POD_A};30/03/2025;02:15;0,010\n"

    parsed = parse_curve_file((header + body).encode(), pod_ids=POD_IDS)

    assert [(r.line, r.field) for r in parsed.rejections] == [(2, "timestamp")]
    assert "does not exist" in parsed.rejections[0].reason


def test_a_file_with_the_wrong_header_is_refused_as_a_whole():
    with pytest.raises(FileRefused, match="No header row with a POD column"):
        parse_curve_file(fixture_bytes("curves", "wrong_header.csv"), pod_ids=POD_IDS)


def test_a_mapping_naming_absent_columns_refuses_the_file():
    mapping = ColumnMapping.from_dict({"pod": "POD", "timestamp": "Quando", "withdrawn": "kWh"})

    with pytest.raises(FileRefused, match="Columns not in the header: Quando, kWh"):
        parse_curve_file(b"POD;Data;Valore\n", pod_ids=POD_IDS, mapping=mapping)


def test_a_mapping_with_unknown_keys_is_refused():
    with pytest.raises(FileRefused, match="Unknown mapping keys: colour"):
        ColumnMapping.from_dict({"pod": "a", "timestamp": "b", "withdrawn": "c", "colour": "x"})


def test_xml_with_a_doctype_is_refused():
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><FlussoMisure/>'

    with pytest.raises(FileRefused, match="DOCTYPE"):
        curves.parse_sii_xml(data, pod_ids=POD_IDS)
