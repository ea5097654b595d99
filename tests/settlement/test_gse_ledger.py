"""GSE amounts as a ledger, as the treasurer meets them on the settlement pages.

Duplicates are refused or confirmed, certified amounts and estimates are kept apart, the
distributable amount is chosen kind by kind, amounts arriving after a distribution adjust
the month, bad files are refused whole, and the fee provision is trued up in December.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from cer.audit.models import AuditEntry
from cer.billing.models import LineKind, Statement, StatementStatus
from cer.distribution.models import Distribution, GseAdjustment
from cer.distribution.services import distribute_run, month_amount, set_policy
from cer.settlement.models import GseAmount
from cer.settlement.services import compute_month
from cercalc.fees import monthly_fee_provision_eur
from tests import factories
from tests.factories.billing import JUNE, NOW, distributed_small
from tests.factories.settlement import add_prices, add_readings, settled_small

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _login(client, small):
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="referente")
    )
    return client


def _upload(client, small, name: str, content: str, **extra):
    upload = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    return client.post(
        reverse("settlement:gse_import", kwargs={"pk": small.configuration.pk}),
        {"file": upload, **extra},
    )


def _settled_with_policy():
    """The small configuration settled for June 2025, with a policy, not yet distributed."""
    small = settled_small()
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[{"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True}],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    return small, run


# Duplicates -----------------------------------------------------------------------------


def test_a_file_without_references_uploaded_under_another_name_is_held_for_confirmation(client):
    small, run = _settled_with_policy()
    _login(client, small)
    content = "period,type,amount\n2025-06,TIP,88.26\n"
    _upload(client, small, "gse-june.csv", content)

    page = _upload(client, small, "gse-june (1).csv", content)

    assert page.status_code == 200
    [duplicate] = page.context["duplicates"]
    assert (duplicate.line, duplicate.kind, duplicate.amount_eur) == (2, "TIP", Decimal("88.26"))
    assert duplicate.other_file == "gse-june.csv"
    assert b"second payment" in page.content
    # Shown, not stored, and never summed into the month.
    assert GseAmount.objects.count() == 1
    assert month_amount(run).parts[0].amount_eur == Decimal("88.26")


def test_a_confirmed_second_payment_is_stored_and_counted(client):
    small, run = _settled_with_policy()
    _login(client, small)
    content = "period,type,amount\n2025-06,TIP,88.26\n"
    _upload(client, small, "gse-june.csv", content)
    page = _upload(client, small, "gse-june (1).csv", content)

    client.post(
        reverse("settlement:gse_import", kwargs={"pk": small.configuration.pk}),
        {**page.context["carried"], "confirmed": "yes"},
    )

    assert GseAmount.objects.count() == 2
    assert GseAmount.objects.filter(second_payment=True, source_name="gse-june (1).csv").exists()
    assert month_amount(run).parts[0].amount_eur == Decimal("176.52")


def test_the_same_file_uploaded_again_under_its_name_stores_nothing_new(client):
    small, _run = _settled_with_policy()
    _login(client, small)
    content = "period,type,amount\n2025-06,TIP,88.26\n2025-06,FEES,3.33\n"
    _upload(client, small, "gse-june.csv", content)

    response = _upload(client, small, "gse-june.csv", content)

    assert response.status_code == 302
    assert GseAmount.objects.count() == 2


def test_the_same_reference_from_another_file_is_refused(client):
    small, _run = _settled_with_policy()
    _login(client, small)
    _upload(client, small, "a.csv", "period,type,amount,reference\n2025-06,TIP,88.26,R-1\n")

    page = _upload(client, small, "b.csv", "period,type,amount,reference\n2025-06,TIP,88.26,R-1\n")

    errors = page.context["form"].errors["file"]
    assert "line 2, reference: R-1 was imported already (88.26 EUR from a.csv)" in errors[0]
    assert GseAmount.objects.count() == 1


# Certified and estimates; the basis kind by kind ----------------------------------------


def test_estimates_are_kept_apart_from_certified_amounts_in_the_reconciliation(client):
    small, run = _settled_with_policy()
    _login(client, small)
    _upload(
        client,
        small,
        "gse.csv",
        "period,type,amount,certified\n2025-06,TIP,80.00,yes\n2025-06,TIP,50.00,no\n",
    )

    page = client.get(
        reverse("settlement:reconciliation", kwargs={"pk": small.configuration.pk, "year": 2025})
    )

    tip = next(line for line in page.context["lines"] if line.kind == "TIP")
    assert (tip.certified_eur, tip.estimate_eur) == (Decimal("80.00"), Decimal("50.00"))
    assert tip.difference_eur == Decimal("80.00") - run.incentive_eur
    assert month_amount(run).parts[0].amount_eur == Decimal("80.00")


def test_a_certified_tip_alone_keeps_our_valorisation_and_fees_and_the_statement_says_so(client):
    small, run = _settled_with_policy()
    _login(client, small)
    _upload(client, small, "gse.csv", "period,type,amount\n2025-06,TIP,80.00\n")

    client.post(reverse("settlement:run_distribute", kwargs={"pk": run.pk}), {"confirmed": "yes"})

    distribution = Distribution.objects.get(run=run)
    assert distribution.amount_eur == Decimal("80.00") + run.valorisation_eur - run.gse_fees_eur
    assert distribution.amount_basis == "MIXED"
    assert [(p["kind"], p["source"]) for p in distribution.amount_parts] == [
        ("TIP", "GSE"),
        ("VALORISATION", "SHADOW"),
        ("FEES", "SHADOW"),
    ]
    statement = Statement.objects.get(member=small.household, status=StatementStatus.CURRENT)
    page = client.get(reverse("billing:statement", kwargs={"pk": statement.pk}))
    assert page.status_code == 200
    assert page.context["data"].amount_sources == [
        ("Incentive tariff (TIP)", "certified by GSE", Decimal("80.00")),
        ("ARERA valorisation", "our calculation from the hourly readings", run.valorisation_eur),
        ("GSE fees", "our calculation from the hourly readings", -run.gse_fees_eur),
    ]
    assert b"certified by GSE" in page.content
    pdf = client.get(reverse("billing:statement_pdf", kwargs={"pk": statement.pk}))
    assert pdf.status_code == 200


# Amounts after a distribution -----------------------------------------------------------


def test_a_conguaglio_after_the_distribution_adjusts_the_month_and_every_euro_is_placed(client):
    small, distribution = distributed_small()
    _login(client, small)
    before = {
        s.member_id: s.amount_eur for s in Statement.objects.filter(status=StatementStatus.CURRENT)
    }

    _upload(client, small, "conguaglio.csv", "period,type,amount\n2025-06,CONGUAGLIO,10.00\n")

    adjustment = GseAdjustment.objects.get(distribution=distribution)
    assert adjustment.amount_before_eur == distribution.amount_eur
    assert adjustment.difference_eur == Decimal("10.00")
    members = sum(Decimal(row["difference_eur"]) for row in adjustment.shares)
    pots = sum(Decimal(p["after_eur"]) - Decimal(p["before_eur"]) for p in adjustment.pots)
    assert members + pots == Decimal("10.00")
    assert pots == Decimal("0.50")  # the social pot keeps its 5 %
    for statement in Statement.objects.filter(status=StatementStatus.CURRENT):
        lines = list(statement.lines.order_by("position"))
        assert lines[-1].kind == LineKind.GSE
        assert lines[-1].description == "Adjustment from GSE amounts of June 2025"
        assert statement.amount_eur == before[statement.member_id] + lines[-1].amount_eur
        assert statement.amount_eur == sum(line.amount_eur for line in lines)
    assert AuditEntry.objects.filter(code="distribution.gse_adjustment.created").count() == 1
    page = client.get(reverse("settlement:run_detail", kwargs={"pk": distribution.run.pk}))
    assert b"Adjustments from GSE amounts" in page.content


def test_importing_the_same_amounts_again_creates_no_adjustment(client):
    small, distribution = distributed_small()
    _login(client, small)
    content = "period,type,amount,reference\n2025-06,CONGUAGLIO,10.00,C-1\n"
    _upload(client, small, "conguaglio.csv", content)
    versions = Statement.objects.count()

    _upload(client, small, "conguaglio.csv", content)

    assert GseAdjustment.objects.filter(distribution=distribution).count() == 1
    assert Statement.objects.count() == versions


def test_a_second_conguaglio_adjusts_from_the_first_adjustment(client):
    small, distribution = distributed_small()
    _login(client, small)
    _upload(client, small, "c1.csv", "period,type,amount,reference\n2025-06,CONGUAGLIO,10,C1\n")

    _upload(client, small, "c2.csv", "period,type,amount,reference\n2025-06,CONGUAGLIO,-4,C2\n")

    first, second = GseAdjustment.objects.filter(distribution=distribution)
    assert second.amount_before_eur == first.amount_after_eur
    assert second.amount_after_eur == distribution.amount_eur + Decimal("6.00")
    shares = dict(distribution.shares.values_list("member_id", "amount_eur"))
    for statement in Statement.objects.filter(status=StatementStatus.CURRENT):
        gse = [line.amount_eur for line in statement.lines.all() if line.kind == LineKind.GSE]
        after = next(s for s in second.shares if s["member_id"] == statement.member_id)
        assert sum(gse) == Decimal(after["after_eur"]) - shares[statement.member_id]
        assert statement.amount_eur == Decimal(after["after_eur"])


def test_an_estimate_after_the_distribution_changes_nothing(client):
    small, _distribution = distributed_small()
    _login(client, small)

    _upload(client, small, "stima.csv", "period,type,amount,certified\n2025-06,TIP,500,no\n")

    assert GseAmount.objects.count() == 1
    assert not GseAdjustment.objects.exists()


# Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("period,type,amount\n2025-06,TIP,1.00\n2025-06,bonus,2\n", "line 3, type: unknown type"),
        (
            "period,type,amount\n2025-06,VALORISATION,-2.00\n",
            "line 2, amount: VALORISATION cannot be negative",
        ),
        ("period,type,amount\n2025-06,TIP,1\n2025-06,ADVANCE,-5\n", "line 3, amount: ADVANCE"),
        ("period,type,amount\n2025-06,TIP,1\n2024-02,TIP,2\n", "line 3, period: 2024-02 has no"),
        ("period,type,amount\n2025-06,TIP,12.345\n", "line 2, amount: more than two decimals"),
        ("period,type,amount\n2025-06,TIP,NaN\n", "line 2, amount: 'NaN' is not a number"),
        ("period,type,amount,certified\n2025-06,TIP,1,maybe\n", "line 2, certified"),
    ],
)
def test_a_bad_gse_file_is_refused_whole_naming_the_line(client, content, message):
    small, _run = _settled_with_policy()
    _login(client, small)

    page = _upload(client, small, "bad.csv", content)

    assert message in page.context["form"].errors["file"][0]
    assert not GseAmount.objects.exists()


def test_fees_are_accepted_with_either_sign_and_stored_as_the_charge(client):
    small, run = _settled_with_policy()
    _login(client, small)

    _upload(client, small, "fees.csv", "period,type,amount,reference\n2025-06,FEES,-3.50,F1\n")

    assert GseAmount.objects.get().amount_eur == Decimal("3.50")
    assert month_amount(run).parts[2].amount_eur == Decimal("-3.50")


# The fee provision ----------------------------------------------------------------------


def test_the_yearly_fee_of_215_is_provisioned_as_eleven_17_92_and_a_december_of_17_88():
    fee = Decimal("215.00")

    provisions = [monthly_fee_provision_eur(fee_eur_per_year=fee, month=m) for m in range(1, 13)]

    assert provisions == [Decimal("17.92")] * 11 + [Decimal("17.88")]
    assert sum(provisions) == fee


@given(st.decimals(min_value=0, max_value=100_000, places=2))
def test_the_twelve_provisions_always_add_up_to_the_yearly_fee(fee):
    provisions = [monthly_fee_provision_eur(fee_eur_per_year=fee, month=m) for m in range(1, 13)]

    assert sum(provisions) == fee
    assert all(p == p.quantize(Decimal("0.01")) for p in provisions)


def test_december_trues_up_against_what_the_months_provisioned():
    provision = monthly_fee_provision_eur(
        fee_eur_per_year=Decimal("40.00"), month=12, provisioned_eur=Decimal("30.00")
    )

    assert provision == Decimal("10.00")


def test_a_settled_december_takes_the_rest_of_the_yearly_fee():
    small = settled_small(month=dt.date(2025, 11, 1))
    add_readings(small, dt.date(2025, 12, 1))
    add_prices(dt.date(2025, 12, 1))

    # Both months must have ended to be settled.
    after_the_year = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)
    november = compute_month(
        configuration=small.configuration, month=dt.date(2025, 11, 1), now=after_the_year
    ).run
    december = compute_month(
        configuration=small.configuration, month=dt.date(2025, 12, 1), now=after_the_year
    ).run

    # 45 kW plant: 15 + 25 x 1 = 40.00 EUR a year; 40 / 12 = 3.33; December 40 - 11 x 3.33.
    assert november.gse_fees_eur == Decimal("3.33")
    assert december.gse_fees_eur == Decimal("3.37")


def test_the_distribution_of_a_run_without_gse_amounts_uses_our_calculation():
    _small, run = _settled_with_policy()

    distribution = distribute_run(run=run, actor=None, now=NOW)

    assert distribution.amount_basis == "SHADOW"
    assert {p["source"] for p in distribution.amount_parts} == {"SHADOW"}
