"""Settlement case files (ENGINE_IO.md): read and check a case, settle it, write the result.

A case is one JSON object; its hours are either listed under "hours" or kept in a CSV file named
by "hours_csv" (docs/algorithms/case-csv.md). Decimal numbers are JSON strings and never pass
through a float: energies [kWh, at most 3 decimals] become integer Wh, prices [EUR/MWh, at most 4
decimals] become rate units of 1e-4 EUR/MWh. Hours are stored by UTC start. Any problem raises
CaseError, whose message names the key, the hour and the problem. The output lists hours by UTC
start and plants by id, with a fixed key order, so the same case always gives the same bytes.
"""

import csv
import io
import itertools
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cercalc import buckets
from cercalc.money import (
    UnitError,
    format_kwh,
    format_scaled,
    parse_kwh,
    parse_scaled,
    round_eur,
    round_half_up,
)
from cercalc.params import (
    CONSUMER_CATEGORIES,
    REGIONS,
    VOLTAGE_LEVELS,
    ParameterError,
    Parameters,
    default_parameters,
)
from cercalc.settle import (
    CONFIGURATION_TYPES,
    REGIMES,
    SOURCES,
    Configuration,
    Consumer,
    InvalidInput,
    MissingZonalPrice,
    Plant,
    SettlementResult,
    settle,
)

IntArray = npt.NDArray[np.int64]

_TOP_KEYS = {"configuration", "parameters", "plants", "consumers", "hours", "hours_csv"}
_CONFIGURATION_KEYS = {"type", "region", "primary_substation"}
_PLANT_KEYS = {
    "id",
    "source",
    "power_kw",
    "entry_into_service",
    "region",
    "existing",
    "capital_grant_pct",
    "pnrr",
    "superbonus_kw",
    "obligation_kw",
    "regime",
    "pod",
    "storage_power_kw",
    "storage_capacity_kwh",
}
_CONSUMER_KEYS = {"id", "category", "pod", "voltage_level"}
_HOUR_KEYS = {"start", "zonal_price_eur_per_mwh", "injected_kwh", "withdrawn_kwh"}
_PRICE_PLACES = 4
_PRICE_COLUMN = "zonal_price_eur_per_mwh"


class CaseError(ValueError):
    """A case that cannot be settled: names the key, the hour when there is one, the problem."""

    def __init__(self, key: str, problem: str, hour: str | None = None) -> None:
        where = f"{key} (hour {hour})" if hour else key
        super().__init__(f"{where}: {problem}" if where else problem)


@dataclass(frozen=True, eq=False)
class Case:
    """A parsed case: the engine's inputs, hours sorted by UTC start."""

    configuration: Configuration
    plants: tuple[Plant, ...]
    consumers: tuple[Consumer, ...]
    hour_start_utc_s: IntArray
    injected_wh: IntArray
    withdrawn_wh: IntArray
    zonal_price_units: IntArray
    price_known: npt.NDArray[np.bool_]
    parameters: Parameters
    price_keys: tuple[str, ...]
    start_texts: tuple[str, ...]


@dataclass
class _Hours:
    """Hours as read, in input order, with a label per hour for messages."""

    labels: list[str]
    start_texts: list[str]
    starts: IntArray
    prices: IntArray
    price_known: npt.NDArray[np.bool_]
    injected: IntArray
    withdrawn: IntArray
    separator: str


def load_case(path: Path) -> Case:
    """Read and check a case file (and its CSV hours, relative to the case file).

    Raises CaseError for an unreadable file, bad JSON or any invalid content.
    """
    document = _read_json(path)
    return parse_case(document, base_dir=path.parent)


def parse_case(document: Any, *, base_dir: Path) -> Case:
    """Check a decoded case document and build the engine's inputs.

    Raises CaseError naming the key (and hour) of the first problem found.
    """
    top = _object(
        document, "case", required={"configuration", "plants", "consumers"}, optional=_TOP_KEYS
    )
    if ("hours" in top) == ("hours_csv" in top):
        raise CaseError("hours", 'give the hours either as "hours" or as "hours_csv"')
    configuration = _configuration(top["configuration"])
    parameters = _parameters(top.get("parameters", {}))
    plants = _plants(top["plants"], configuration)
    consumers = _consumers(top["consumers"])
    plant_index = {plant.plant_id: i for i, plant in enumerate(plants)}
    consumer_index = {consumer.consumer_id: i for i, consumer in enumerate(consumers)}
    if "hours" in top:
        hours = _json_hours(top["hours"], plant_index, consumer_index)
    else:
        hours = _csv_hours(top["hours_csv"], base_dir, plant_index, consumer_index)
    order = _checked_order(hours, parameters)
    return Case(
        configuration=configuration,
        plants=tuple(plants),
        consumers=tuple(consumers),
        hour_start_utc_s=hours.starts[order],
        injected_wh=np.ascontiguousarray(hours.injected[:, order]),
        withdrawn_wh=np.ascontiguousarray(hours.withdrawn[:, order]),
        zonal_price_units=hours.prices[order],
        price_known=hours.price_known[order],
        parameters=parameters,
        price_keys=tuple(f"{hours.labels[i]}{hours.separator}{_PRICE_COLUMN}" for i in order),
        start_texts=tuple(hours.start_texts[i] for i in order),
    )


def settle_case(case: Case) -> SettlementResult:
    """Settle a parsed case.

    Raises CaseError when an hour with shared energy has no zonal price (or, as a safety net,
    when the engine refuses the inputs for a reason the reader did not catch).
    """
    try:
        return settle(
            configuration=case.configuration,
            plants=case.plants,
            consumers=case.consumers,
            hour_start_utc_s=case.hour_start_utc_s,
            injected_wh=case.injected_wh,
            withdrawn_wh=case.withdrawn_wh,
            zonal_price_units=case.zonal_price_units,
            price_known=case.price_known,
            parameters=case.parameters,
        )
    except MissingZonalPrice as error:
        i = error.hour_index
        raise CaseError(
            case.price_keys[i], "missing, and the hour has shared energy", case.start_texts[i]
        ) from None
    except InvalidInput as error:
        raise CaseError("case", str(error)) from None


def result_to_json(result: SettlementResult) -> str:
    """Serialise a settlement result as the ENGINE_IO.md output, byte-stable."""
    ids = [plant.plant_id for plant in result.plants]
    by_id = sorted(range(len(ids)), key=ids.__getitem__)
    sorted_ids = [ids[i] for i in by_id]
    allocation_by_hour = result.allocation_wh[by_id].T.tolist()
    rate_by_hour = result.premium_rate_cent_per_mwh[by_id].T.tolist()
    hours = []
    for start, shared, allocations, rates in zip(
        buckets.format_utc_many(result.hour_start_utc_s),
        result.shared_wh.tolist(),
        allocation_by_hour,
        rate_by_hour,
        strict=True,
    ):
        paid = [k for k, energy in enumerate(allocations) if energy]
        hours.append(
            {
                "start": start,
                "shared_kwh": format_kwh(shared),
                "allocation_kwh": {sorted_ids[k]: format_kwh(allocations[k]) for k in paid},
                "premium_rate_eur_per_mwh": {
                    sorted_ids[k]: format_scaled(rates[k], 2) for k in paid
                },
            }
        )
    plants = {}
    for i in by_id:
        plant = result.plants[i]
        figures = {
            "shared_kwh": format_kwh(plant.shared_wh),
            "incentive_eur": str(plant.incentive_eur),
            "gse_fee_eur_per_year": str(round_eur(plant.gse_fee_eur_per_year)),
        }
        if plant.capital_grant is not None:
            figures["capital_grant_eur"] = str(round_eur(plant.capital_grant.grant_eur))
        if plant.grant_reduction_f is not None:
            figures["grant_reduction_f"] = _format_factor(plant.grant_reduction_f)
        if plant.pnrr_fee_eur is not None:
            figures["pnrr_fee_eur"] = str(round_eur(plant.pnrr_fee_eur))
        plants[plant.plant_id] = figures
    totals = {
        "injected_kwh": format_kwh(result.injected_wh),
        "withdrawn_kwh": format_kwh(result.withdrawn_wh),
        "shared_kwh": format_kwh(result.shared_total_wh),
        "incentive_eur": str(result.incentive_eur),
        "valorisation_eur": str(result.valorisation_eur),
        "excess_eur": str(result.excess_eur),
    }
    return _layout(hours, plants, totals, list(result.warnings))


def _layout(
    hours: list[dict[str, Any]],
    plants: dict[str, Any],
    totals: dict[str, str],
    warnings: list[str],
) -> str:
    """Write one hour, plant or warning per line: readable, and fast with json's C encoder."""

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    def block(lines: Iterable[str], opening: str, closing: str) -> str:
        body = ",\n".join(f"    {line}" for line in lines)
        return f"{opening}\n{body}\n  {closing}" if body else f"{opening}{closing}"

    parts = [
        f'  "hours": {block(map(dump, hours), "[", "]")}',
        '  "plants": '
        + block((f"{dump(key)}: {dump(value)}" for key, value in plants.items()), "{", "}"),
        '  "totals": '
        + block((f"{dump(key)}: {dump(value)}" for key, value in totals.items()), "{", "}"),
        f'  "warnings": {block(map(dump, warnings), "[", "]")}',
    ]
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _format_factor(factor: Fraction) -> str:
    """Show F with 2 decimals, more (up to 6) when needed to keep it exact."""
    for places in range(2, 7):
        scaled = factor * 10**places
        if scaled.denominator == 1:
            return format_scaled(int(scaled), places)
    return str(round_half_up(factor, 6))


# Reading ------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CaseError("", f"cannot be read ({error.__class__.__name__})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as error:
        raise CaseError(
            "", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CaseError(json.dumps(key), "appears twice in the same JSON object")
        result[key] = value
    return result


def _object(value: Any, key: str, *, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CaseError(key, "must be a JSON object")
    allowed = required | optional
    prefix = "" if key == "case" else f"{key}."
    for name in sorted(value):
        if name not in allowed:
            raise CaseError(f"{prefix}{name}", "unknown key")
    for name in sorted(required):
        if name not in value:
            raise CaseError(f"{prefix}{name}", "missing")
    return value


def _text(value: Any, key: str, choices: Sequence[str] | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise CaseError(key, "must be a non-empty string")
    if choices is not None and value not in choices:
        raise CaseError(key, f'"{value}" is not one of {", ".join(choices)}')
    return value


def _decimal(value: Any, key: str, places: int, *, hour: str | None = None) -> Decimal:
    """Parse a non-negative decimal string with at most `places` decimals, as written."""
    _scaled(value, key, places, hour=hour)
    return Decimal(value)


def _scaled(
    value: Any, key: str, places: int, *, allow_negative: bool = False, hour: str | None = None
) -> int:
    if not isinstance(value, str):
        raise CaseError(
            key, f'must be a decimal string such as "1.000", not {json.dumps(value)}', hour
        )
    try:
        return parse_scaled(value, places, allow_negative=allow_negative)
    except UnitError as error:
        raise CaseError(key, str(error), hour) from None


def _configuration(value: Any) -> Configuration:
    raw = _object(value, "configuration", required={"type", "region"}, optional=_CONFIGURATION_KEYS)
    return Configuration(
        type=_text(raw["type"], "configuration.type", CONFIGURATION_TYPES),
        region=_text(raw["region"], "configuration.region", REGIONS),
        primary_substation=_text(
            raw.get("primary_substation", "-"), "configuration.primary_substation"
        ),
    )


def _parameters(value: Any) -> Parameters:
    if not isinstance(value, dict):
        raise CaseError("parameters", "must be a JSON object")
    try:
        return default_parameters().with_overrides(value)
    except ParameterError as error:
        raise CaseError(f"parameters.{error.name}", error.problem) from None


def _plants(value: Any, configuration: Configuration) -> list[Plant]:
    if not isinstance(value, list):
        raise CaseError("plants", "must be a JSON list")
    plants = []
    for index, item in enumerate(value):
        key = f"plants[{index}]"
        raw = _object(
            item,
            key,
            required={"id", "source", "power_kw", "entry_into_service"},
            optional=_PLANT_KEYS,
        )
        power_kw = _decimal(raw["power_kw"], f"{key}.power_kw", 3)
        if power_kw <= 0:
            raise CaseError(f"{key}.power_kw", "must be above 0")
        investment = None
        if "pnrr" in raw:
            pnrr = _object(raw["pnrr"], f"{key}.pnrr", required={"investment_eur"}, optional=set())
            investment = _decimal(pnrr["investment_eur"], f"{key}.pnrr.investment_eur", 2)
        grant_pct = _decimal(raw.get("capital_grant_pct", "0"), f"{key}.capital_grant_pct", 6)
        if grant_pct > 100:
            raise CaseError(f"{key}.capital_grant_pct", "must be at most 100")
        if grant_pct and investment is not None:
            raise CaseError(f"{key}.pnrr", "give either capital_grant_pct or pnrr, not both")
        superbonus_kw = _decimal(raw.get("superbonus_kw", "0"), f"{key}.superbonus_kw", 3)
        obligation_kw = _decimal(raw.get("obligation_kw", "0"), f"{key}.obligation_kw", 3)
        if superbonus_kw + obligation_kw > power_kw:
            raise CaseError(f"{key}.superbonus_kw", "with obligation_kw exceeds power_kw")
        existing = raw.get("existing", False)
        if not isinstance(existing, bool):
            raise CaseError(f"{key}.existing", "must be true or false")
        if "pod" in raw:
            _text(raw["pod"], f"{key}.pod")
        plants.append(
            Plant(
                plant_id=_text(raw["id"], f"{key}.id"),
                source=_text(raw["source"], f"{key}.source", SOURCES),
                power_kw=power_kw,
                entry_into_service_date=_date(
                    raw["entry_into_service"], f"{key}.entry_into_service"
                ),
                region=_text(raw.get("region", configuration.region), f"{key}.region", REGIONS),
                existing=existing,
                capital_grant_pct=grant_pct,
                pnrr_investment_eur=investment,
                superbonus_kw=superbonus_kw,
                obligation_kw=obligation_kw,
                regime=_text(raw.get("regime", "DM414"), f"{key}.regime", REGIMES),
                storage_power_kw=_decimal(
                    raw.get("storage_power_kw", "0"), f"{key}.storage_power_kw", 3
                ),
                storage_capacity_kwh=_decimal(
                    raw.get("storage_capacity_kwh", "0"), f"{key}.storage_capacity_kwh", 3
                ),
            )
        )
    _unique([plant.plant_id for plant in plants], "plants")
    return plants


def _consumers(value: Any) -> list[Consumer]:
    if not isinstance(value, list):
        raise CaseError("consumers", "must be a JSON list")
    consumers = []
    for index, item in enumerate(value):
        key = f"consumers[{index}]"
        raw = _object(item, key, required={"id", "category"}, optional=_CONSUMER_KEYS)
        if "pod" in raw:
            _text(raw["pod"], f"{key}.pod")
        consumers.append(
            Consumer(
                consumer_id=_text(raw["id"], f"{key}.id"),
                category=_text(raw["category"], f"{key}.category", CONSUMER_CATEGORIES),
                voltage_level=_text(
                    raw.get("voltage_level", "LV"), f"{key}.voltage_level", VOLTAGE_LEVELS
                ),
            )
        )
    _unique([consumer.consumer_id for consumer in consumers], "consumers")
    return consumers


def _unique(ids: list[str], key: str) -> None:
    seen: set[str] = set()
    for index, identifier in enumerate(ids):
        if identifier in seen:
            raise CaseError(f"{key}[{index}].id", f'"{identifier}" is used twice')
        seen.add(identifier)


def _date(value: Any, key: str) -> date:
    try:
        return date.fromisoformat(_text(value, key))
    except ValueError:
        raise CaseError(key, f'"{value}" is not a date YYYY-MM-DD') from None


def _start(value: Any, key: str) -> tuple[int, str]:
    text = _text(value, key)
    try:
        return buckets.parse_instant_utc_s(text), text
    except buckets.InstantError as error:
        raise CaseError(key, str(error)) from None


def _json_hours(
    value: Any, plant_index: Mapping[str, int], consumer_index: Mapping[str, int]
) -> _Hours:
    if not isinstance(value, list) or not value:
        raise CaseError("hours", "must be a non-empty JSON list")
    n_hours = len(value)
    injected = np.zeros((len(plant_index), n_hours), dtype=np.int64)
    withdrawn = np.zeros((len(consumer_index), n_hours), dtype=np.int64)
    starts = np.zeros(n_hours, dtype=np.int64)
    prices = np.zeros(n_hours, dtype=np.int64)
    known = np.zeros(n_hours, dtype=bool)
    texts = []
    for column, item in enumerate(value):
        key = f"hours[{column}]"
        raw = _object(item, key, required={"start"}, optional=_HOUR_KEYS)
        starts[column], start_text = _start(raw["start"], f"{key}.start")
        texts.append(start_text)
        if _PRICE_COLUMN in raw:
            prices[column] = _scaled(
                raw[_PRICE_COLUMN],
                f"{key}.{_PRICE_COLUMN}",
                _PRICE_PLACES,
                allow_negative=True,
                hour=start_text,
            )
            known[column] = True
        for name, index, target, kind in (
            ("injected_kwh", plant_index, injected, "plant"),
            ("withdrawn_kwh", consumer_index, withdrawn, "consumer"),
        ):
            energies = raw.get(name, {})
            if not isinstance(energies, dict):
                raise CaseError(f"{key}.{name}", "must be a JSON object", start_text)
            for point_id, energy in energies.items():
                where = f"{key}.{name}.{point_id}"
                if point_id not in index:
                    raise CaseError(where, f"{kind} id not declared in {kind}s", start_text)
                target[index[point_id], column] = _scaled(energy, where, 3, hour=start_text)
    return _Hours(
        labels=[f"hours[{i}]" for i in range(n_hours)],
        start_texts=texts,
        starts=starts,
        prices=prices,
        price_known=known,
        injected=injected,
        withdrawn=withdrawn,
        separator=".",
    )


class _CellCache(dict[str, int]):
    """Parse each distinct cell text once: metering data repeat values a lot."""

    def __init__(self, parse: Callable[[str], int], empty: int) -> None:
        super().__init__()
        self[""] = empty
        self._parse = parse

    def __missing__(self, text: str) -> int:
        value = self._parse(text)
        self[text] = value
        return value


def _csv_hours(
    value: Any, base_dir: Path, plant_index: Mapping[str, int], consumer_index: Mapping[str, int]
) -> _Hours:
    name = _text(value, "hours_csv")
    path = base_dir / name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CaseError(
            "hours_csv", f"{name} cannot be read ({error.__class__.__name__})"
        ) from None
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) < 2:
        raise CaseError("hours_csv", f"{name} has no hours")
    header, data = rows[0], rows[1:]
    columns = _csv_columns(header, name, plant_index, consumer_index)
    for line, row in enumerate(data, start=2):
        if len(row) != len(header):
            raise CaseError(
                f"{name} line {line}", f"has {len(row)} cells, the header {len(header)}"
            )

    start_column = header.index("start")
    starts = np.zeros(len(data), dtype=np.int64)
    texts = [row[start_column] for row in data]
    for position, start_text in enumerate(texts):
        starts[position], _ = _start(start_text, f"{name} line {position + 2} column start")

    prices = np.zeros(len(data), dtype=np.int64)
    known = np.zeros(len(data), dtype=bool)
    if _PRICE_COLUMN in header:
        position = header.index(_PRICE_COLUMN)
        prices = _parse_columns(data, [position], _parse_price, header, texts, name)[:, 0]
        known = np.array([row[position] != "" for row in data], dtype=bool)
    positions = [position for position, _ in columns]
    energy = _parse_columns(data, positions, parse_kwh, header, texts, name)
    injected = np.zeros((len(plant_index), len(data)), dtype=np.int64)
    withdrawn = np.zeros((len(consumer_index), len(data)), dtype=np.int64)
    for column, (_, (is_plant, point_row)) in enumerate(columns):
        (injected if is_plant else withdrawn)[point_row] = energy[:, column]
    return _Hours(
        labels=[f"{name} line {line}" for line in range(2, len(data) + 2)],
        start_texts=texts,
        starts=starts,
        prices=prices,
        price_known=known,
        injected=injected,
        withdrawn=withdrawn,
        separator=" column ",
    )


def _csv_columns(
    header: list[str], name: str, plant_index: Mapping[str, int], consumer_index: Mapping[str, int]
) -> list[tuple[int, tuple[bool, int]]]:
    """Map each energy column to (position, (is a plant, row in its array))."""
    columns = []
    seen: set[str] = set()
    for position, title in enumerate(header):
        if title in seen:
            raise CaseError(f"{name} column {title}", "appears twice in the header")
        seen.add(title)
        if title in ("start", _PRICE_COLUMN):
            continue
        kind, _, point_id = title.partition(".")
        if kind == "injected_kwh" and point_id in plant_index:
            columns.append((position, (True, plant_index[point_id])))
        elif kind == "withdrawn_kwh" and point_id in consumer_index:
            columns.append((position, (False, consumer_index[point_id])))
        elif kind in ("injected_kwh", "withdrawn_kwh"):
            what = "plant" if kind == "injected_kwh" else "consumer"
            raise CaseError(f"{name} column {title}", f"{what} id not declared in {what}s")
        else:
            raise CaseError(
                f"{name} column {title}",
                "unknown column (expected start, zonal_price_eur_per_mwh, "
                "injected_kwh.<plant id> or withdrawn_kwh.<consumer id>)",
            )
    if "start" not in seen:
        raise CaseError(f"{name} column start", "missing")
    return columns


def _parse_price(text: str) -> int:
    return parse_scaled(text, _PRICE_PLACES, allow_negative=True)


def _parse_columns(
    data: list[list[str]],
    positions: list[int],
    parse: Callable[[str], int],
    header: list[str],
    start_texts: list[str],
    name: str,
) -> IntArray:
    """Parse some columns of the CSV rows into an hours x columns integer array.

    An empty cell is 0 (a missing energy is zero). Each distinct text is parsed once, exactly;
    the first bad cell is named by line and column.
    """
    cache = _CellCache(parse, 0)
    if len(positions) == 1:
        cells: Iterable[str] = (row[positions[0]] for row in data)
    else:
        cells = itertools.chain.from_iterable(map(operator.itemgetter(*positions), data))
    try:
        values = np.fromiter(
            map(cache.__getitem__, cells), dtype=np.int64, count=len(data) * len(positions)
        )
    except UnitError as error:
        # Every cell before the bad one is already in the cache: the first one missing is it.
        line, position = next(
            (line, position)
            for line, row in enumerate(data, start=2)
            for position in positions
            if row[position] not in cache
        )
        raise CaseError(
            f"{name} line {line} column {header[position]}", str(error), start_texts[line - 2]
        ) from None
    return values.reshape(len(data), len(positions))


def _checked_order(hours: _Hours, parameters: Parameters) -> npt.NDArray[np.intp]:
    """Sort hours by UTC start; refuse duplicates and starts off the interval grid."""
    first_day = buckets.local_date_of(int(hours.starts.min()))
    step_s = 60 * int(parameters.value_on("interval_minutes", first_day, []))
    off_grid = np.flatnonzero(hours.starts % step_s)
    if off_grid.size:
        i = int(off_grid[0])
        raise CaseError(
            f"{hours.labels[i]}{hours.separator}start",
            f"is not aligned to the {step_s // 60}-minute interval",
            hours.start_texts[i],
        )
    order = np.argsort(hours.starts, kind="stable")
    repeated = np.flatnonzero(np.diff(hours.starts[order]) == 0)
    if repeated.size:
        first, second = int(order[repeated[0]]), int(order[repeated[0] + 1])
        raise CaseError(
            f"{hours.labels[second]}{hours.separator}start",
            f"the hour is listed twice (also {hours.labels[first]})",
            hours.start_texts[second],
        )
    return order
