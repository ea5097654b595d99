"""Load-curve files of grid operators: bytes in, hourly energies per connection point out.

Pure functions: no database, no clock. Three families are read (docs/imports.md gives the
exact layouts and says which parts come from public documentation and which are guesses):

* e-distribuzione CSV exports: one row per POD and day with 92..100 quarter-hour columns
  ("wide"), or one row per quarter-hour ("long");
* the SII measurement flows (PDO, RFO and similar XML) with one ``Ea`` element per day
  carrying ``E1``..``E100``;
* any other CSV described by a ColumnMapping.

Energies are read exactly from their decimal text into integer milliwatt-hours, summed
per UTC hour and rounded half-up to whole watt-hours once, per hour. A Europe/Rome day
has 92, 96 or 100 quarter-hours; the k-th starts at local midnight (in UTC) + k * 15 min,
so the repeated October hour and the missing March hour are just shorter or longer days.

The package holds one module per family (edistribuzione, mapped, sii) and the shared
hourly machinery (_hours); this module is its public face.
"""

from __future__ import annotations

from collections.abc import Mapping

from cer.imports.curves._hours import (
    INJECTED,
    KWH_DIGITS,
    POD_RE,
    QUANTITY_NAMES,
    WH_DIGITS,
    WITHDRAWN,
    CurveParse,
    FileRefused,
    HourlyCurves,
    Rejection,
    aggregate_hours,
    decode_text,
    normalise_header,
    parse_italian_date,
)
from cer.imports.curves.edistribuzione import parse_edistribuzione_csv
from cer.imports.curves.mapped import ColumnMapping, parse_mapped_csv
from cer.imports.curves.sii import parse_sii_xml, read_xml_records

__all__ = [
    "INJECTED",
    "KWH_DIGITS",
    "POD_RE",
    "QUANTITY_NAMES",
    "WH_DIGITS",
    "WITHDRAWN",
    "ColumnMapping",
    "CurveParse",
    "FileRefused",
    "HourlyCurves",
    "Rejection",
    "aggregate_hours",
    "decode_text",
    "normalise_header",
    "parse_curve_file",
    "parse_edistribuzione_csv",
    "parse_italian_date",
    "parse_mapped_csv",
    "parse_sii_xml",
    "read_xml_records",
]


# ---------------------------------------------------------------------------- entry points


def parse_curve_file(
    data: bytes,
    *,
    pod_ids: Mapping[str, int],
    mapping: ColumnMapping | None = None,
    kind: str = "auto",
) -> CurveParse:
    """Read a load-curve file of any supported kind into partial hourly sums.

    `pod_ids` maps each POD code the import may write to its connection point id; lines
    of other PODs are rejected. `kind` is "auto", "edistribuzione", "sii" or "mapped"
    (the last needs `mapping`). Raises FileRefused when the file cannot be read at all.
    """
    if mapping is not None or kind == "mapped":
        if mapping is None:
            raise FileRefused("The mapped layout needs a column mapping.")
        return parse_mapped_csv(data, mapping=mapping, pod_ids=pod_ids)
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if kind == "sii" or (kind == "auto" and head.startswith(b"<")):
        return parse_sii_xml(data, pod_ids=pod_ids)
    if kind in {"auto", "edistribuzione"}:
        return parse_edistribuzione_csv(data, pod_ids=pod_ids)
    raise FileRefused(f"Unknown curve file kind: {kind}.")
