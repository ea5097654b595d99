"""`cer settle` end to end: the ENGINE_IO.md worked example, CSV hours, determinism, bad input."""

import json
from pathlib import Path
from typing import Any

import pytest

from cercalc.cli import main

EXPECTED_EXAMPLE_OUTPUT = {
    "hours": [
        {
            "start": "2024-06-03T09:00:00Z",
            "shared_kwh": "22.000",
            "allocation_kwh": {"PV1": "22.000"},
            "premium_rate_eur_per_mwh": {"PV1": "124.00"},
        },
        {
            "start": "2024-06-03T10:00:00Z",
            "shared_kwh": "10.000",
            "allocation_kwh": {"PV1": "10.000"},
            "premium_rate_eur_per_mwh": {"PV1": "84.00"},
        },
    ],
    "plants": {
        "PV1": {"shared_kwh": "32.000", "incentive_eur": "3.57", "gse_fee_eur_per_year": "40.00"}
    },
    "totals": {
        "injected_kwh": "40.000",
        "withdrawn_kwh": "40.000",
        "shared_kwh": "32.000",
        "incentive_eur": "3.57",
        "valorisation_eur": "0.34",
        "excess_eur": "0.89",
    },
    "warnings": [],
}


def write_case(directory: Path, document: dict[str, Any], name: str = "case.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def test_the_engine_io_example_is_reproduced_exactly(tmp_path, example_case):
    case_path = write_case(tmp_path, example_case)
    out_path = tmp_path / "out.json"

    status = main(["settle", str(case_path), "-o", str(out_path)])

    assert status == 0
    assert json.loads(out_path.read_text(encoding="utf-8")) == EXPECTED_EXAMPLE_OUTPUT


def test_the_output_keys_come_in_the_documented_order(tmp_path, example_case):
    case_path = write_case(tmp_path, example_case)
    out_path = tmp_path / "out.json"

    main(["settle", str(case_path), "-o", str(out_path)])

    output = json.loads(out_path.read_text(encoding="utf-8"))
    assert list(output) == ["hours", "plants", "totals", "warnings"]
    assert list(output["hours"][0]) == [
        "start",
        "shared_kwh",
        "allocation_kwh",
        "premium_rate_eur_per_mwh",
    ]
    assert list(output["totals"]) == list(EXPECTED_EXAMPLE_OUTPUT["totals"])


def test_without_an_output_file_the_result_goes_to_stdout(tmp_path, example_case, capsys):
    case_path = write_case(tmp_path, example_case)

    status = main(["settle", str(case_path)])

    assert status == 0
    assert json.loads(capsys.readouterr().out) == EXPECTED_EXAMPLE_OUTPUT


def test_the_same_case_gives_the_same_bytes(tmp_path, example_case):
    case_path = write_case(tmp_path, example_case)

    main(["settle", str(case_path), "-o", str(tmp_path / "first.json")])
    main(["settle", str(case_path), "-o", str(tmp_path / "second.json")])

    assert (tmp_path / "first.json").read_bytes() == (tmp_path / "second.json").read_bytes()


def test_listing_hours_and_points_in_another_order_gives_the_same_bytes(tmp_path, example_case):
    second_plant = dict(example_case["plants"][0], id="PV0", entry_into_service="2024-05-01")
    example_case["plants"].append(second_plant)
    example_case["hours"][0]["injected_kwh"]["PV0"] = "5.000"
    shuffled = json.loads(json.dumps(example_case))
    shuffled["plants"].reverse()
    shuffled["consumers"].reverse()
    shuffled["hours"].reverse()

    main(["settle", str(write_case(tmp_path, example_case, "a.json")), "-o", str(tmp_path / "a")])
    main(["settle", str(write_case(tmp_path, shuffled, "b.json")), "-o", str(tmp_path / "b")])

    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_hours_given_as_csv_settle_like_hours_given_in_json(tmp_path, example_case):
    (tmp_path / "hours.csv").write_text(
        "start,zonal_price_eur_per_mwh,injected_kwh.PV1,withdrawn_kwh.C1,withdrawn_kwh.C2\n"
        "2024-06-03T11:00:00+02:00,140.00,30.000,7.000,15.000\n"
        "2024-06-03T12:00:00+02:00,190,10,8,10\n",
        encoding="utf-8",
    )
    del example_case["hours"]
    example_case["hours_csv"] = "hours.csv"
    out_path = tmp_path / "out.json"

    status = main(["settle", str(write_case(tmp_path, example_case)), "-o", str(out_path)])

    assert status == 0
    assert json.loads(out_path.read_text(encoding="utf-8")) == EXPECTED_EXAMPLE_OUTPUT


def test_an_empty_csv_energy_cell_means_zero(tmp_path, example_case):
    (tmp_path / "hours.csv").write_text(
        "start,zonal_price_eur_per_mwh,injected_kwh.PV1,withdrawn_kwh.C1,withdrawn_kwh.C2\n"
        "2024-06-03T09:00:00Z,140.00,30.000,,15.000\n",
        encoding="utf-8",
    )
    del example_case["hours"]
    example_case["hours_csv"] = "hours.csv"
    out_path = tmp_path / "out.json"

    main(["settle", str(write_case(tmp_path, example_case)), "-o", str(out_path)])

    assert json.loads(out_path.read_text(encoding="utf-8"))["totals"]["shared_kwh"] == "15.000"


# Bad input: exit status 2, one line on stderr naming key, hour and problem, no output file.


def set_withdrawal(value: Any) -> Any:
    def change(case: dict[str, Any]) -> None:
        case["hours"][1]["withdrawn_kwh"]["C1"] = value

    return change


BAD_CASES = [
    (
        "unknown plant key",
        lambda c: c["plants"][0].update(colour="red"),
        ["plants[0].colour", "unknown key"],
    ),
    ("unknown top key", lambda c: c.update(notes="x"), ["notes", "unknown key"]),
    (
        "unknown hour key",
        lambda c: c["hours"][0].update(price="1"),
        ["hours[0].price", "unknown key"],
    ),
    (
        "negative energy",
        set_withdrawal("-8.000"),
        ["hours[1].withdrawn_kwh.C1", "2024-06-03T12:00:00+02:00", "negative"],
    ),
    (
        "non-numeric energy",
        set_withdrawal("eight"),
        ["hours[1].withdrawn_kwh.C1", "2024-06-03T12:00:00+02:00", "not a decimal number"],
    ),
    (
        "energy as a JSON number",
        set_withdrawal(8.0),
        ["hours[1].withdrawn_kwh.C1", "decimal string"],
    ),
    (
        "energy finer than a watt-hour",
        set_withdrawal("8.0005"),
        ["hours[1].withdrawn_kwh.C1", "more than 3 decimals"],
    ),
    (
        "hour listed twice",
        lambda c: c["hours"][1].update(start="2024-06-03T09:00:00Z"),
        ["hours[1].start", "2024-06-03T09:00:00Z", "listed twice"],
    ),
    (
        "hour off the interval grid",
        lambda c: c["hours"][1].update(start="2024-06-03T12:30:00+02:00"),
        ["hours[1].start", "2024-06-03T12:30:00+02:00", "not aligned"],
    ),
    (
        "hour without offset",
        lambda c: c["hours"][1].update(start="2024-06-03T12:00:00"),
        ["hours[1].start", "no UTC offset"],
    ),
    (
        "undeclared plant",
        lambda c: c["hours"][1]["injected_kwh"].update(PV9="1.000"),
        ["hours[1].injected_kwh.PV9", "2024-06-03T12:00:00+02:00", "not declared"],
    ),
    (
        "undeclared consumer",
        lambda c: c["hours"][0]["withdrawn_kwh"].update(C9="1.000"),
        ["hours[0].withdrawn_kwh.C9", "not declared"],
    ),
    (
        "missing zonal price with shared energy",
        lambda c: c["hours"][1].pop("zonal_price_eur_per_mwh"),
        ["hours[1].zonal_price_eur_per_mwh", "2024-06-03T12:00:00+02:00", "missing"],
    ),
    (
        "unknown parameter",
        lambda c: c["parameters"].update(speed="1"),
        ["parameters.speed", "unknown"],
    ),
    (
        "bad region",
        lambda c: c["plants"][0].update(region="Tuscany"),
        ["plants[0].region", "Tuscany"],
    ),
    (
        "plant id used twice",
        lambda c: c["plants"].append(c["plants"][0]),
        ["plants[1].id", "twice"],
    ),
    ("missing configuration", lambda c: c.pop("configuration"), ["configuration", "missing"]),
]


@pytest.mark.parametrize(
    ("change", "expected"), [case[1:] for case in BAD_CASES], ids=[case[0] for case in BAD_CASES]
)
def test_a_bad_case_exits_2_with_one_message_and_no_output(
    tmp_path, example_case, capsys, change, expected
):
    change(example_case)
    out_path = tmp_path / "out.json"

    status = main(["settle", str(write_case(tmp_path, example_case)), "-o", str(out_path)])

    error = capsys.readouterr().err
    assert status == 2
    assert error.count("\n") == 1
    assert "Traceback" not in error
    for fragment in expected:
        assert fragment in error
    assert not out_path.exists()


def test_malformed_json_exits_2_with_its_position(tmp_path, capsys):
    case_path = tmp_path / "case.json"
    case_path.write_text('{"configuration": ', encoding="utf-8")
    out_path = tmp_path / "out.json"

    status = main(["settle", str(case_path), "-o", str(out_path)])

    error = capsys.readouterr().err
    assert status == 2
    assert "not valid JSON" in error
    assert "line 1 column 19" in error
    assert not out_path.exists()


def test_a_key_repeated_in_one_object_is_refused(tmp_path, capsys):
    case_path = tmp_path / "case.json"
    case_path.write_text('{"configuration": {"type": "CER", "type": "AUC"}}', encoding="utf-8")

    status = main(["settle", str(case_path)])

    assert status == 2
    assert '"type": appears twice' in capsys.readouterr().err


def test_a_missing_case_file_exits_2(tmp_path, capsys):
    status = main(["settle", str(tmp_path / "nowhere.json")])

    assert status == 2
    assert "cannot be read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        (
            "start,zonal_price_eur_per_mwh,injected_kwh.PV1,withdrawn_kwh.C1\n"
            "2024-06-03T09:00:00Z,140.00,30.000,-1.000\n",
            ["hours.csv line 2 column withdrawn_kwh.C1", "2024-06-03T09:00:00Z", "negative"],
        ),
        (
            "start,zonal_price_eur_per_mwh,injected_kwh.PV1,withdrawn_kwh.C1\n"
            "2024-06-03T09:00:00Z,140.00,30.000,1.000\n"
            "2024-06-03T10:00:00Z,140.00,1,2,3\n",
            ["hours.csv line 3", "has 5 cells"],
        ),
        (
            "start,zonal_price_eur_per_mwh,injected_kwh.PV7\n2024-06-03T09:00:00Z,140.00,30.000\n",
            ["hours.csv column injected_kwh.PV7", "not declared"],
        ),
        (
            "start,price,injected_kwh.PV1\n2024-06-03T09:00:00Z,140.00,30.000\n",
            ["hours.csv column price", "unknown column"],
        ),
        (
            "start,zonal_price_eur_per_mwh,injected_kwh.PV1,withdrawn_kwh.C1\n"
            "2024-06-03T09:00:00Z,,30.000,1.000\n",
            ["hours.csv line 2 column zonal_price_eur_per_mwh", "missing"],
        ),
        (
            "start,zonal_price_eur_per_mwh,injected_kwh.PV1\n"
            "2024-06-03T09:00:00Z,140.00,30.000\n2024-06-03T11:00:00+02:00,140.00,1.000\n",
            ["hours.csv line 3 column start", "listed twice (also hours.csv line 2)"],
        ),
    ],
    ids=[
        "negative",
        "ragged row",
        "undeclared plant",
        "unknown column",
        "missing price",
        "hour twice",
    ],
)
def test_a_bad_csv_names_its_line_and_column(tmp_path, example_case, capsys, csv_text, expected):
    (tmp_path / "hours.csv").write_text(csv_text, encoding="utf-8")
    del example_case["hours"]
    example_case["hours_csv"] = "hours.csv"
    out_path = tmp_path / "out.json"

    status = main(["settle", str(write_case(tmp_path, example_case)), "-o", str(out_path)])

    error = capsys.readouterr().err
    assert status == 2
    for fragment in expected:
        assert fragment in error
    assert not out_path.exists()
