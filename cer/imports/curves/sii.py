"""SII measurement flows (FlussoMisure XML, e.g. PDO or RFO) with quarter-hour curves.

One ``Ea`` element per POD and day carries ``E1``..``E100``; the XML is read with expat,
record by record, and any DOCTYPE is refused.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from xml.parsers import expat

from cer.imports.curves._hours import (
    _CHUNK_ROWS,
    INJECTED,
    KWH_DIGITS,
    WITHDRAWN,
    CurveParse,
    FileRefused,
    _clean_pod,
    _DayRows,
    _flush_day_rows,
    _Output,
    _pod_problem,
    _Slots,
    parse_italian_date,
)

_SII_QUANTITIES = {"ea": WITHDRAWN, "eaimm": INJECTED, "eai": INJECTED, "eimm": INJECTED}
_SII_SLOTS = _Slots(
    labels=tuple(f"E{k}" for k in range(1, 101)),
    mode="index",
    keys=tuple(range(1, 101)),
    step_minutes=15,
)


@dataclass
class _XmlNode:
    tag: str
    line: int
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)
    children: list[_XmlNode] = field(default_factory=list)

    def child_text(self, name: str) -> str | None:
        low = name.lower()
        for child in self.children:
            if child.tag.lower() == low:
                return "".join(child.text).strip()
        for key, value in self.attrs.items():
            if key.lower() == low:
                return value.strip()
        return None


def read_xml_records(data: bytes, record_tags: set[str]) -> Iterator[_XmlNode]:
    """Yield each element whose tag is in `record_tags` (lower case) with its subtree.

    Uses expat and refuses any DOCTYPE, so entity-expansion attacks cannot start.
    Raises FileRefused on malformed XML.
    """
    parser = expat.ParserCreate()
    stack: list[_XmlNode] = []
    done: list[_XmlNode] = []

    def forbid_doctype(*_args: object) -> None:
        raise FileRefused("XML files with a DOCTYPE are not accepted.")

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(":", 1)[-1]
        node = _XmlNode(local, parser.CurrentLineNumber, attrs)
        if stack:
            stack[-1].children.append(node)
        if local.lower() in record_tags or stack:
            stack.append(node)

    def end(tag: str) -> None:
        if stack:
            node = stack.pop()
            if not stack:
                done.append(node)

    def text(chunk: str) -> None:
        if stack:
            stack[-1].text.append(chunk)

    parser.StartDoctypeDeclHandler = forbid_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    stream = io.BytesIO(data)
    while True:
        block = stream.read(1 << 20)
        try:
            parser.Parse(block, not block)
        except expat.ExpatError as error:
            raise FileRefused(f"The XML is malformed: {error}.") from None
        yield from done
        done.clear()
        if not block:
            return


def parse_sii_xml(data: bytes, *, pod_ids: Mapping[str, int]) -> CurveParse:
    """Read an SII measurement flow (FlussoMisure, e.g. PDO or RFO) with quarter-hour curves.

    Each DatiPod gives the Pod and MeseAnno (mm/yyyy); each ``Ea`` element below it is one
    day (attribute or child ``Giorno``, day of month, or ``Data`` dd/mm/yyyy) with values
    ``E1``..``E100`` in kWh, decimal comma. ``Ea`` is withdrawn energy; an ``EaImm``
    element, if present, is read as injected (a guess: docs/imports.md). Raises
    FileRefused when the file is not a FlussoMisure.
    """
    head = data[:2048].decode("utf-8", errors="replace")
    if "FlussoMisure" not in head and "DatiPod" not in data[:200_000].decode("utf-8", "replace"):
        raise FileRefused("This XML is not an SII measurement flow (no FlussoMisure/DatiPod).")
    out = _Output()
    batch = _DayRows()
    seen: dict[tuple[int, dt.date, int], int] = {}
    for pod_node in read_xml_records(data, {"datipod"}):
        pod_text = _clean_pod(pod_node.child_text("Pod") or "")
        month_text = pod_node.child_text("MeseAnno") or ""
        days = [node for node in _walk(pod_node) if node.tag.lower() in _SII_QUANTITIES]
        raw = f"DatiPod {pod_text} {month_text}"
        if not days:
            continue
        problem = _pod_problem(pod_text, pod_ids)
        if problem:
            for node in days:
                out.data_lines += 1
                out.reject(node.line, "Pod", problem, raw)
            continue
        point = pod_ids[pod_text]
        month = re.match(r"^(\d{1,2})/(\d{4})$", month_text)
        for node in days:
            out.data_lines += 1
            day = _sii_day(node, month)
            if isinstance(day, str):
                out.reject(node.line, "Giorno", day, raw)
                continue
            quantity = _SII_QUANTITIES[node.tag.lower()]
            key = (point, day, quantity)
            if key in seen:
                out.reject(node.line, node.tag, f"duplicate of line {seen[key]}", raw)
                continue
            seen[key] = node.line
            values = {k.upper(): v for k, v in node.attrs.items()}
            for child in node.children:
                values[child.tag.upper()] = "".join(child.text)
            batch.lines.append(node.line)
            batch.points.append(point)
            batch.days.append(day)
            batch.quantities.append(quantity)
            batch.values.append([values.get(f"E{k}", "") for k in range(1, 101)])
            batch.raws.append(f"{raw} {node.tag} {day:%d/%m/%Y}")
            if len(batch) >= _CHUNK_ROWS:
                _flush_day_rows(batch, _SII_SLOTS, decimal=",", scale_digits=KWH_DIGITS, out=out)
                batch = _DayRows()
    _flush_day_rows(batch, _SII_SLOTS, decimal=",", scale_digits=KWH_DIGITS, out=out)
    return out.result("SII measurement flow")


def _walk(node: _XmlNode) -> Iterator[_XmlNode]:
    for child in node.children:
        yield child
        yield from _walk(child)


def _sii_day(node: _XmlNode, month: re.Match[str] | None) -> dt.date | str:
    full = node.child_text("Data") or node.child_text("Dt")
    if full:
        day = parse_italian_date(full)
        return day if day else f'date "{full}" is not dd/mm/yyyy'
    number = node.child_text("Giorno") or node.child_text("Gg")
    if month is None:
        return "MeseAnno missing or not mm/yyyy"
    if not number or not number.strip().isdigit():
        return f'day of month "{number or ""}" is not a number'
    try:
        return dt.date(int(month.group(2)), int(month.group(1)), int(number))
    except ValueError:
        return f"day {number} does not exist in {month.group(0)}"
