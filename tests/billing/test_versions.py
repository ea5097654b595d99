"""Statement versions that keep every euro: a new settlement version changes only the share.

docs/algorithms/statements.md: the worked examples (3.92 → 4.92 → 5.00 EUR; a member dropped
from a version after 1.26 EUR had been paid) are reproduced here, through the web pages.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cer.billing.models import (
    LineKind,
    PaidLine,
    PayoutItem,
    Statement,
    StatementStatus,
)
from cer.billing.statements import correct_statement, issue_statements
from cer.distribution.models import Distribution, DistributionPolicy, MemberShare
from cer.distribution.services import distribute_run
from cer.members.models import Membership
from cer.metering.models import HourlyReading
from cer.settlement.services import compute_month
from tests import factories
from tests.api.conftest import client_for
from tests.factories.billing import (
    JUNE,
    NOW,
    distributed_small,
    make_dispute,
    make_payout_batch,
)
from tests.factories.settlement import make_settlement_run, make_small

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English texts whatever the translations say."""
    with translation.override("en"):
        yield


def _distribute(configuration, version: int, shares: dict[int, tuple[str, str]]) -> Distribution:
    """Store settlement version `version` of June with the given shares (amount, correction)
    [EUR] and issue its statements, as distribute_run does after the split."""
    run = make_settlement_run(configuration, month=JUNE, version=version)
    policy = DistributionPolicy.objects.filter(
        community_id=configuration.community_id
    ).first() or DistributionPolicy.objects.create(
        community_id=configuration.community_id, valid_from=dt.date(2025, 1, 1), created_at=NOW
    )
    total = sum((Decimal(amount) for amount, _ in shares.values()), Decimal(0))
    distribution = Distribution.objects.create(
        run=run,
        policy=policy,
        amount_basis="SHADOW",
        amount_eur=total,
        excess_eur=0,
        enterprise_ceiling_eur=total,
        enterprise_before_eur=0,
        enterprise_eur=0,
        moved_to_social_eur=0,
        moved_to_members_eur=0,
        created_at=NOW,
    )
    MemberShare.objects.bulk_create(
        MemberShare(
            distribution=distribution,
            member_id=member_id,
            amount_eur=Decimal(amount),
            correction_eur=Decimal(correction),
            exact_eur=amount,
        )
        for member_id, (amount, correction) in shares.items()
    )
    issue_statements(distribution=distribution, now=NOW)
    return distribution


def _current(member) -> Statement:
    return Statement.objects.get(member=member, month=JUNE, status=StatementStatus.CURRENT)


def _kinds(statement: Statement) -> list[tuple[str, Decimal]]:
    return [(line.kind, line.amount_eur) for line in statement.lines.order_by("position")]


def _login_member(client, member) -> User:
    user = User.objects.create_user(f"member{member.pk}", email=member.email)
    member.user = user
    member.save(update_fields=["user"])
    client.force_login(user)
    return user


def _pay(statement: Statement) -> None:
    """Record that a payout paid every line of the statement (as create_payout does)."""
    batch = make_payout_batch(statement.configuration)
    item = PayoutItem.objects.create(
        batch=batch,
        member_id=statement.member_id,
        name=statement.member_name,
        iban=factories.IBAN,
        amount_eur=statement.amount_eur,
        end_to_end_id=f"E2E-{statement.pk}",
    )
    PaidLine.objects.bulk_create(
        PaidLine(item=item, line_id=line.root_id) for line in statement.lines.all()
    )


def _dispute_on(statement: Statement):
    return make_dispute(statement.lines.get(kind=LineKind.SHARE))


def _eur(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def _pdf_text(content: bytes, tmp_path) -> str:
    document = tmp_path / "document.pdf"
    document.write_bytes(content)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "make test installs poppler-utils"
    return subprocess.run(  # noqa: S603 (poppler on a file the test wrote)
        [pdftotext, "-layout", str(document), "-"], capture_output=True, text=True, check=True
    ).stdout


# --- the dispute award survives a new settlement version ------------------------------------


def test_an_award_stays_when_the_month_is_recomputed_worked_example(client):
    small = make_small()
    _distribute(small.configuration, 1, {small.household.pk: ("3.92", "0.00")})
    referente = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    first = _current(small.household)
    dispute = _dispute_on(first)
    client.force_login(referente)

    client.post(
        reverse("billing:dispute", kwargs={"pk": dispute.pk}),
        {"action": "resolve", "message": "You are right", "amount_eur": "1.00", "confirmed": "yes"},
    )
    awarded = _current(small.household)
    _distribute(small.configuration, 2, {small.household.pk: ("4.00", "0.00")})
    after = _current(small.household)
    _login_member(client, small.household)
    page = client.get(reverse("billing:statement", kwargs={"pk": after.pk}))

    assert awarded.amount_eur == Decimal("4.92")
    assert after.amount_eur == Decimal("5.00")
    assert _kinds(after) == [
        (LineKind.SHARE, Decimal("3.92")),
        (LineKind.ADJUSTMENT, Decimal("1.00")),
        (LineKind.VERSION, Decimal("0.08")),
    ]
    assert (after.version, after.previous_id) == (3, awarded.pk)
    ledger = page.context["ledger"]
    assert [(row.kind_label, row.running_eur) for row in ledger.rows] == [
        ("Share of the month's amount", Decimal("3.92")),
        ("Adjustment after a dispute", Decimal("4.92")),
        ("Change after a new settlement version", Decimal("5.00")),
    ]
    html = page.content.decode()
    assert "Version 3 of 3" in html
    assert "Amount before: 4.92 EUR; now: 5.00 EUR (change 0.08 EUR)." in html
    assert [row.line.amount_eur for row in ledger.changes] == [Decimal("0.08")]


def test_an_award_stays_when_new_readings_give_a_new_settlement_version(client):
    small, _first = distributed_small()
    referente = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    dispute = _dispute_on(_current(small.household))
    client.force_login(referente)
    client.post(
        reverse("billing:dispute", kwargs={"pk": dispute.pk}),
        {"action": "resolve", "message": "Agreed", "amount_eur": "1.00", "confirmed": "yes"},
    )
    HourlyReading.objects.filter(connection_point=small.points["household"]).update(
        withdrawn_wh=900
    )
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    second = distribute_run(run=run, actor=None, now=NOW)
    new_share = second.shares.get(member=small.household).amount_eur
    statement = _current(small.household)

    page = client.get(reverse("billing:statement", kwargs={"pk": statement.pk}))
    api = client_for(referente).get(f"/api/v1/statements/{statement.pk}").json()

    assert run.version == 2
    assert statement.distribution_id == second.pk
    assert [line["kind"] for line in api["lines"]] == ["SHARE", "ADJUSTMENT", "VERSION"]
    assert sum(Decimal(line["amount_eur"]) for line in api["lines"]) == statement.amount_eur
    assert statement.amount_eur == new_share + Decimal("1.00")
    assert statement.amount_eur == sum(line.amount_eur for line in statement.lines.all())
    assert [line.kind for line in statement.lines.order_by("position")] == [
        LineKind.SHARE,
        LineKind.ADJUSTMENT,
        LineKind.VERSION,
    ]
    assert page.context["ledger"].rows[-1].running_eur == new_share + Decimal("1.00")
    # Everyone else's current statement is their new share: nothing else changed for them.
    for share in second.shares.exclude(member=small.household):
        assert _current(share.member).amount_eur == share.amount_eur


def test_a_superseded_version_says_so_and_links_the_current_one(client):
    small = make_small()
    _distribute(small.configuration, 1, {small.household.pk: ("3.92", "0.00")})
    old = _current(small.household)
    _distribute(small.configuration, 2, {small.household.pk: ("4.00", "0.00")})
    _login_member(client, small.household)

    page = client.get(reverse("billing:statement", kwargs={"pk": old.pk}))

    html = page.content.decode()
    assert "Version 1 of 2" in html
    assert "This version was replaced." in html
    assert reverse("billing:statement", kwargs={"pk": _current(small.household).pk}) in html


# --- a member dropped from a version keeps the month, with a negative line -----------------


def test_a_member_dropped_from_a_version_owes_back_what_was_paid_worked_example(client, tmp_path):
    small = make_small()
    _distribute(
        small.configuration,
        1,
        {small.household.pk: ("1.26", "0.00"), small.sme.pk: ("8.74", "0.00")},
    )
    _pay(_current(small.household))
    _distribute(small.configuration, 2, {small.sme.pk: ("10.00", "0.00")})
    year = reverse("billing:year_statement", args=[small.household.pk, 2025])
    _login_member(client, small.household)

    page = client.get(year)
    plain = client.get(year, {"format": "csv", "dialect": "plain"})
    csv = plain.content.decode().strip().splitlines()
    pdf = _pdf_text(client.get(year, {"format": "pdf"}).content, tmp_path)

    june = _current(small.household)
    assert (june.version, june.amount_eur) == (2, Decimal("0.00"))
    assert _kinds(june) == [(LineKind.SHARE, Decimal("1.26")), (LineKind.VERSION, Decimal("-1.26"))]
    assert Statement.objects.filter(member=small.household).count() == 2
    [(statement, rows, position)] = page.context["months"]
    assert statement == june
    assert [row.line.amount_eur for row in rows] == [Decimal("1.26"), Decimal("-1.26")]
    assert (position.position_eur, position.paid_eur, position.owed_eur) == (
        Decimal("0.00"),
        Decimal("1.26"),
        Decimal("1.26"),
    )
    assert "You were paid 1.26 EUR more than your position for the year" in page.content.decode()
    assert any(row.endswith(",VERSION,-1.26,true") for row in csv)
    assert csv[-3:] == ["paid,,,,1.26,", "to_pay,,,,0.00,", "owed_back,,,,1.26,"]
    assert "-1.26" in pdf
    assert "June 2025" in pdf
    assert "You owe back" in pdf


def test_a_member_whose_membership_moved_to_july_gets_a_june_version_withdrawing_the_share(
    client,
):
    small, _first = distributed_small()
    paid = _current(small.household)
    _pay(paid)
    Membership.objects.filter(member=small.household).update(valid_from=dt.date(2025, 7, 1))
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    second = distribute_run(run=run, actor=None, now=NOW)
    _login_member(client, small.household)
    june = _current(small.household)

    page = client.get(reverse("billing:statement", kwargs={"pk": june.pk}))

    assert run.version == 2
    assert not second.shares.filter(member=small.household).exists()
    assert june.distribution_id == second.pk
    assert june.amount_eur == Decimal("0.00")
    assert _kinds(june) == [
        (LineKind.SHARE, paid.amount_eur),
        (LineKind.VERSION, -paid.amount_eur),
    ]
    html = page.content.decode()
    assert f"You owe back {paid.amount_eur} EUR" in html
    assert "withdrawn" in html
    # Paid once and copied, never paid twice: the share line keeps its first issue.
    assert june.lines.get(kind=LineKind.SHARE).origin_id == paid.lines.get().pk


def test_a_member_already_dropped_gets_no_further_version_when_still_absent():
    small = make_small()
    _distribute(small.configuration, 1, {small.household.pk: ("1.26", "0.00")})
    _distribute(small.configuration, 2, {small.sme.pk: ("1.00", "0.00")})
    dropped = _current(small.household)

    _distribute(small.configuration, 3, {small.sme.pk: ("2.00", "0.00")})

    assert _current(small.household).pk == dropped.pk
    assert _current(small.sme).amount_eur == Decimal("2.00")


def test_a_member_with_only_other_lines_gets_the_share_as_a_first_share():
    small = make_small()
    _distribute(small.configuration, 1, {small.household.pk: ("3.00", "0.00")})
    correct_statement(
        statement=_current(small.household), amount_eur=Decimal("0.50"), description="x", now=NOW
    )
    _distribute(small.configuration, 2, {small.sme.pk: ("1.00", "0.00")})

    _distribute(
        small.configuration,
        3,
        {small.household.pk: ("2.00", "0.40"), small.sme.pk: ("1.00", "0.00")},
    )

    assert _kinds(_current(small.household)) == [
        (LineKind.SHARE, Decimal("3.00")),
        (LineKind.ADJUSTMENT, Decimal("0.50")),
        (LineKind.VERSION, Decimal("-3.00")),
        (LineKind.VERSION, Decimal("2.00")),
    ]


# --- the invariant ---------------------------------------------------------------------------

_CENTS = st.integers(min_value=0, max_value=50_000)
_STEP = st.one_of(
    st.tuples(
        st.just("version"),
        st.dictionaries(st.integers(0, 2), st.tuples(_CENTS, st.integers(-300, 300)), max_size=3),
    ),
    st.tuples(st.just("award"), st.integers(0, 2), st.integers(-500, 500).filter(bool)),
)


@pytest.fixture
def three_members():
    small = make_small()
    return small.configuration, [small.household, small.sme, small.producer]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_STEP, min_size=1, max_size=8))
def test_every_current_statement_is_the_latest_share_plus_the_awards(three_members, steps):
    configuration, members = three_members
    with transaction.atomic():
        version = 0
        latest: dict[int, int] = {}
        awards: dict[int, int] = {}
        ever: set[int] = set()
        for step in steps:
            if step[0] == "version":
                version += 1
                shares = {
                    members[index].pk: (_eur(cents), _eur(correction))
                    for index, (cents, correction) in step[1].items()
                }
                _distribute(configuration, version, shares)
                latest = {members[i].pk: cents for i, (cents, _c) in step[1].items()}
                ever |= set(latest)
            else:
                member = members[step[1]]
                if member.pk not in ever:
                    continue
                correct_statement(
                    statement=_current(member),
                    amount_eur=Decimal(step[2]) / 100,
                    description="Award",
                    now=NOW,
                )
                awards[member.pk] = awards.get(member.pk, 0) + step[2]

        for member_id in ever:
            current = Statement.objects.get(
                member_id=member_id, month=JUNE, status=StatementStatus.CURRENT
            )
            lines = sum((line.amount_eur for line in current.lines.all()), Decimal(0))
            expected = Decimal(latest.get(member_id, 0) + awards.get(member_id, 0)) / 100
            assert current.amount_eur == lines == expected
        transaction.set_rollback(True)
