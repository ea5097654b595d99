"""SEPA Direct Debit files: the creditor identifier and pain.008.001.02, built and checked.

- The SEPA Creditor Identifier (EPC262-08, "Creditor Identifier Overview"): country code,
  two check digits, a three-character creditor business code (ignored by the check, "ZZZ"
  when unused) and the national identifier (in Italy the creditor's fiscal code). The check
  digits are ISO 7064 MOD 97-10 over the national identifier followed by the country code
  and "00", letters read as numbers (A=10 … Z=35), like an IBAN's.
- The file is written by sepaxml (`SepaDD`, CORE scheme) and validated against the
  pain.008.001.02 schema sepaxml ships, then its group and payment-information totals
  (NbOfTxs, CtrlSum) are read back and compared with the debits it should hold: a file
  whose totals do not match is refused, never offered.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sepaxml
import xmlschema
from django.utils.translation import gettext as _
from sepaxml import SepaDD
from sepaxml.validation import ValidationError as SepaValidationError

from cer.collections.errors import CollectionError
from cer.core.validators import normalise_code

SCHEMA = "pain.008.001.02"
SCHEMA_PATH = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"
_CREDITOR_ID = re.compile(r"^([A-Z]{2})(\d{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")
_schema: xmlschema.XMLSchema | None = None


def _as_digits(text: str) -> str:
    return "".join(str(int(char, 36)) for char in text)


def creditor_check_digits(country: str, national_id: str) -> str:
    """Return the two check digits of a creditor identifier (ISO 7064 MOD 97-10)."""
    number = int(_as_digits(f"{national_id}{country}00"))
    return f"{98 - number % 97:02d}"


def validate_creditor_id(value: str) -> str:
    """Return the normalised creditor identifier; raise CollectionError naming the problem."""
    code = normalise_code(value)
    match = _CREDITOR_ID.fullmatch(code)
    if match is None:
        raise CollectionError(
            _(
                "A SEPA creditor identifier is a country code, two check digits, a "
                "three-character business code and the national identifier "
                "(e.g. IT66ZZZ12345678903)."
            ),
            field="creditor_id",
        )
    country, digits, _business, national = match.groups()
    expected = creditor_check_digits(country, national)
    if digits != expected:
        raise CollectionError(
            _("The check digits of the creditor identifier are wrong: check for a typo."),
            field="creditor_id",
        )
    return code


@dataclass(frozen=True)
class Debit:
    """One debit to write: the debtor, the mandate, the amount and our references."""

    name: str
    iban: str
    bic: str
    amount_eur: Decimal
    sequence: str
    mandate_reference: str
    mandate_signed_date: dt.date
    description: str
    end_to_end_id: str


class _DirectDebit(SepaDD):
    """sepaxml's direct debit with our message id: it writes GrpHdr/MsgId while constructing."""

    def __init__(self, config: dict[str, Any], *, message_id: str) -> None:
        self._message_id = message_id
        super().__init__(config, schema=SCHEMA, clean=True)

    def _create_header(self) -> None:
        self.msg_id = self._message_id
        super()._create_header()


def cents(amount: Decimal) -> int:
    """Return an amount of whole cents as an integer (amounts at rest have two decimals)."""
    return int((amount * 100).to_integral_value())


def pain008(
    *,
    message_id: str,
    creditor_name: str,
    creditor_iban: str,
    creditor_bic: str,
    creditor_id: str,
    collection_date: dt.date,
    debits: list[Debit],
) -> str:
    """Return a pain.008.001.02 file (CORE) of the debits, validated against its schema.

    Raises CollectionError when sepaxml or the schema refuses it, or when its totals do not
    match the debits.
    """
    if not debits:
        raise CollectionError(_("a direct-debit file needs at least one debit"))
    writer = _DirectDebit(
        {
            "name": creditor_name[:70],
            "IBAN": creditor_iban,
            "BIC": creditor_bic,
            "batch": True,
            "creditor_id": creditor_id,
            "currency": "EUR",
            "instrument": "CORE",
        },
        message_id=message_id,
    )
    for debit in debits:
        payment: dict[str, Any] = {
            "name": debit.name[:70],
            "IBAN": debit.iban,
            "amount": cents(debit.amount_eur),
            "type": debit.sequence,
            "collection_date": collection_date,
            "mandate_id": debit.mandate_reference,
            "mandate_date": debit.mandate_signed_date,
            "description": debit.description[:140],
            "endtoend_id": debit.end_to_end_id,
        }
        if debit.bic:
            payment["BIC"] = debit.bic
        writer.add_payment(payment)
    try:
        xml = str(writer.export(validate=True).decode())
    except SepaValidationError as error:
        cause = error.__cause__
        raise CollectionError(
            _("the pain.008 file does not validate against %(schema)s at %(path)s: %(reason)s")
            % {
                "schema": SCHEMA,
                "path": getattr(cause, "path", ""),
                "reason": getattr(cause, "reason", "") or error,
            }
        ) from error
    check_file(
        xml,
        count=len(debits),
        total_eur=sum((d.amount_eur for d in debits), Decimal("0.00")),
    )
    return xml


def validate_schema(xml: str) -> None:
    """Validate a pain.008.001.02 file against the XSD sepaxml ships; raise CollectionError."""
    global _schema
    if _schema is None:
        _schema = xmlschema.XMLSchema(str(SCHEMA_PATH))
    try:
        # Parsed here, never handed over as text: xmlschema would read a non-XML string as
        # a path or a URL.
        root = ET.fromstring(xml.encode())  # noqa: S314 (a file this platform generated)
        errors = list(_schema.iter_errors(root))
    except (ET.ParseError, xmlschema.XMLSchemaException, ValueError) as error:
        raise CollectionError(
            _("the pain.008 file is not well-formed XML (%(error)s)") % {"error": error}
        ) from error
    if errors:
        first = errors[0]
        raise CollectionError(
            _("the pain.008 file does not validate against %(schema)s at %(path)s: %(reason)s")
            % {"schema": SCHEMA, "path": first.path, "reason": first.reason}
        )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _decimal(element: ET.Element | None, where: str) -> Decimal:
    try:
        return Decimal((element.text or "") if element is not None else "")
    except InvalidOperation as error:
        raise CollectionError(
            _("%(where)s is missing or not a number") % {"where": where}, field=where
        ) from error


@dataclass(frozen=True)
class FileTotals:
    message_id: str
    count: int
    total_eur: Decimal
    end_to_end_ids: tuple[str, ...]


def read_totals(xml: str) -> FileTotals:
    """Read GrpHdr's MsgId, NbOfTxs and CtrlSum and check every PmtInf against its debits.

    Raises CollectionError naming the element whose figure disagrees with what it adds up.
    """
    root = ET.fromstring(xml.encode())  # noqa: S314 (a file this platform generated)
    initiation = next(iter(root))
    header = _child(initiation, "GrpHdr")
    if header is None:
        raise CollectionError(_("the pain.008 file has no group header"), field="GrpHdr")
    msg = _child(header, "MsgId")
    message_id = (msg.text or "") if msg is not None else ""
    count = int(_decimal(_child(header, "NbOfTxs"), "GrpHdr/NbOfTxs"))
    control = _decimal(_child(header, "CtrlSum"), "GrpHdr/CtrlSum")
    all_count, all_sum, ids = 0, Decimal("0.00"), []
    for number, info in enumerate((c for c in initiation if _local(c.tag) == "PmtInf"), start=1):
        amounts = []
        for tx in (c for c in info if _local(c.tag) == "DrctDbtTxInf"):
            amount = next((e for e in tx.iter() if _local(e.tag) == "InstdAmt"), None)
            amounts.append(_decimal(amount, "DrctDbtTxInf/InstdAmt"))
            ids += [e.text or "" for e in tx.iter() if _local(e.tag) == "EndToEndId"]
        where = f"PmtInf[{number}]"
        if int(_decimal(_child(info, "NbOfTxs"), f"{where}/NbOfTxs")) != len(amounts):
            raise CollectionError(
                _("%(where)s/NbOfTxs does not match its %(count)s debits")
                % {"where": where, "count": len(amounts)},
                field=f"{where}/NbOfTxs",
            )
        if _decimal(_child(info, "CtrlSum"), f"{where}/CtrlSum") != sum(amounts, Decimal(0)):
            raise CollectionError(
                _("%(where)s/CtrlSum does not match the sum of its debits (%(sum)s)")
                % {"where": where, "sum": sum(amounts, Decimal(0))},
                field=f"{where}/CtrlSum",
            )
        all_count += len(amounts)
        all_sum += sum(amounts, Decimal(0))
    if count != all_count:
        raise CollectionError(
            _("GrpHdr/NbOfTxs says %(said)s but the file holds %(count)s debits")
            % {"said": count, "count": all_count},
            field="GrpHdr/NbOfTxs",
        )
    if control != all_sum:
        raise CollectionError(
            _("GrpHdr/CtrlSum says %(said)s but the debits add up to %(sum)s")
            % {"said": control, "sum": all_sum},
            field="GrpHdr/CtrlSum",
        )
    return FileTotals(message_id, count, control, tuple(ids))


def check_file(
    xml: str, *, count: int, total_eur: Decimal, end_to_end_ids: set[str] | None = None
) -> FileTotals:
    """Validate a file against the schema and its totals against what it must collect.

    Raises CollectionError naming the figure that disagrees (GrpHdr/NbOfTxs, GrpHdr/CtrlSum,
    a PmtInf's, or the debits themselves).
    """
    validate_schema(xml)
    totals = read_totals(xml)
    if totals.count != count:
        raise CollectionError(
            _("the file holds %(file)s debits, the batch %(batch)s")
            % {"file": totals.count, "batch": count},
            field="GrpHdr/NbOfTxs",
        )
    if totals.total_eur != total_eur:
        raise CollectionError(
            _("the file's control sum is %(file)s EUR, the batch's total %(batch)s EUR")
            % {"file": totals.total_eur, "batch": total_eur},
            field="GrpHdr/CtrlSum",
        )
    if end_to_end_ids is not None and set(totals.end_to_end_ids) != end_to_end_ids:
        raise CollectionError(
            _("the file's debits are not the batch's (EndToEndId differ)"), field="EndToEndId"
        )
    return totals
