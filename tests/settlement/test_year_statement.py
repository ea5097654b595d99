"""A member's yearly statement adds up the current monthly statements of the year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from cer.billing.models import StatementStatus
from tests.factories import billing, settlement

pytestmark = pytest.mark.django_db


def year_url(member, year=2025):
    with translation.override("en"):
        return reverse("billing:year_statement", args=[member.pk, year])


@pytest.fixture
def three_months(community, member_user):
    configuration = community.configurations.first()
    member = member_user.member
    statements = []
    for month, amount in ((3, "12.34"), (4, "0.01"), (10, "7.65")):
        run = settlement.make_settlement_run(configuration, month=dt.date(2025, month, 1))
        statements.append(billing.make_statement(run, member, amount=amount))
    return statements


def test_the_year_is_the_sum_of_the_current_monthly_statements(client, member_user, three_months):
    superseded = three_months[0]
    superseded.status = StatementStatus.SUPERSEDED
    superseded.save(update_fields=["status"])
    client.force_login(member_user)

    response = client.get(year_url(member_user.member))

    assert response.status_code == 200
    assert response.context["total_eur"] == Decimal("7.66")
    assert [s.month.month for s in response.context["statements"]] == [4, 10]


def test_the_yearly_statement_downloads_as_plain_csv_with_its_total(
    client, member_user, three_months
):
    client.force_login(member_user)

    response = client.get(year_url(member_user.member) + "?format=csv&dialect=plain")

    rows = response.content.decode().strip().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0] == "month,community,line,kind,amount_eur,provisional"
    assert rows[1].startswith("2025-03,")
    # The months' runs are not final: their statements are provisional until they are.
    assert rows[1].endswith(",Share,SHARE,12.34,true")
    assert rows[-4:] == [
        "total,,,,20.00,true",
        "paid,,,,0.00,",
        "to_pay,,,,20.00,",
        "owed_back,,,,0.00,",
    ]


def test_the_yearly_statement_downloads_for_italian_excel_by_default(
    client, member_user, three_months
):
    client.force_login(member_user)

    response = client.get(year_url(member_user.member) + "?format=csv")

    content = response.content
    rows = content.decode("utf-8-sig").split("\r\n")
    assert content.startswith(b"\xef\xbb\xbf")
    assert rows[0] == "Month;Community;Line;Kind;Amount [EUR];Provisional"
    assert rows[1].startswith("March 2025;")
    assert rows[1].endswith(";Share;Share of the month's amount;12,34;yes")
    assert rows[-5:-1] == [
        "Total for the year;;;;20,00;yes",
        "Paid;;;;0,00;",
        "Still to pay to you;;;;20,00;",
        "You owe back;;;;0,00;",
    ]


def test_another_year_has_no_statements_and_a_zero_total(client, member_user, three_months):
    client.force_login(member_user)

    response = client.get(year_url(member_user.member, 2024))

    assert response.context["statements"] == []
    assert response.context["total_eur"] == Decimal("0.00")


def test_a_neighbour_cannot_read_a_members_yearly_statement(
    client, community, member_user, three_months
):
    from tests import factories

    neighbour = factories.make_user_with_role(community, role="MEMBER", username="vicina")
    client.force_login(neighbour)

    assert client.get(year_url(member_user.member)).status_code == 403


def test_the_referente_reads_a_members_yearly_statement(
    client, referente, member_user, three_months
):
    client.force_login(referente)

    assert client.get(year_url(member_user.member)).status_code == 200


def test_the_yearly_statement_downloads_as_pdf_showing_the_total(
    client, member_user, three_months, tmp_path
):
    import shutil
    import subprocess

    client.force_login(member_user)

    response = client.get(year_url(member_user.member) + "?format=pdf")

    assert response["Content-Type"] == "application/pdf"
    document = tmp_path / "year.pdf"
    document.write_bytes(response.content)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "make test installs poppler-utils"
    text = subprocess.run(  # noqa: S603 (poppler on a file the test wrote)
        [pdftotext, str(document), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "20.00" in text
    assert "2025" in text
