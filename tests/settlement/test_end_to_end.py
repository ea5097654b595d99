"""From the demo community's readings to a member's statement PDF and the pain.001 file."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from django.utils import translation

from cer.billing import explain, pdf
from cer.billing.models import Statement
from cer.billing.payouts import create_payout
from cer.core import formatting
from cer.demo.loader import load_demo
from cer.distribution.services import distribute_run, set_policy
from cer.settlement.services import compute_month, finalise_run

NOW = dt.datetime(2025, 7, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English texts whatever the translations say."""
    with translation.override("en"):
        yield


NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install Debian's poppler-utils")
    return path


@pytest.mark.slow
@pytest.mark.django_db
def test_the_demo_month_goes_from_readings_to_a_statement_pdf_and_a_sepa_file(tmp_path: Path):
    community = load_demo().community
    configuration = community.configurations.get()
    set_policy(
        community=community,
        valid_from=dt.date(2025, 1, 1),
        pots=[
            {"code": "running", "label": "Running costs", "percent": Decimal("10")},
            {"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True},
        ],
        components=[
            {"basis": "CONTRIBUTION", "percent": Decimal("80")},
            {"basis": "EQUAL", "percent": Decimal("20")},
        ],
        actor=None,
        now=NOW,
    )

    run = compute_month(configuration=configuration, month=dt.date(2025, 6, 1), now=NOW).run
    finalise_run(run=run, actor=None, now=NOW)
    distribution = distribute_run(run=run, actor=None, now=NOW)
    statement = (
        Statement.objects.filter(distribution=distribution, amount_eur__gt=0)
        .order_by("-amount_eur")
        .first()
    )
    document = tmp_path / "statement.pdf"
    document.write_bytes(pdf.statement_pdf(explain.figures(statement)))
    subprocess.run(  # noqa: S603 (poppler on a file we wrote)
        [
            _poppler("pdftoppm"),
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            str(document),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    text = subprocess.run(  # noqa: S603 (poppler on a file we wrote)
        [_poppler("pdftotext"), "-layout", str(document), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    batch = create_payout(
        configuration=configuration,
        period_start=dt.date(2025, 6, 1),
        period_end=dt.date(2025, 7, 1),
        debtor_name=community.name,
        debtor_iban="IT60X0542811101000000123456",
        debtor_bic="BPPIITRRXXX",
        execution_date=dt.date(2025, 7, 15),
        actor=None,
        now=NOW,
    )

    assert run.hours == 720
    assert (tmp_path / "page-1.png").stat().st_size > 0
    data = explain.figures(statement)
    for figure in (
        statement.member_name,
        "June 2025",
        str(statement.amount_eur),
        # The PDF writes kWh with three decimals in the reader's language (English here).
        formatting.number(Fraction(data.withdrawn_wh, 1000), 3),
        formatting.number(Fraction(data.consumer_shared_wh, 1000), 3),
        str(distribution.amount_eur),
    ):
        assert figure in text, figure
    root = ET.fromstring(batch.xml.encode())  # noqa: S314 (a file we just generated)
    amounts = [Decimal(e.text) for e in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]
    unpaid = sum(
        Decimal(entry["amount_eur"])
        for entry in batch.without_iban
        if Decimal(entry["amount_eur"]) > 0
    )
    shares = sum(s.amount_eur for s in distribution.shares.all())
    pots = sum(Decimal(p["amount_eur"]) for p in distribution.pots)
    assert sum(amounts) == Decimal(root.find(".//p:GrpHdr/p:CtrlSum", NS).text)
    assert sum(amounts) + unpaid == shares
    assert shares + pots == distribution.amount_eur
