"""A rounding tie between two members goes to the lower numeric id ("2" before "10")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cer.distribution.models import Distribution
from cer.distribution.services import set_policy
from cer.members.models import Membership
from cer.settlement.services import compute_month
from tests import factories
from tests.factories.settlement import add_prices, add_readings, make_small

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC)
JUNE = dt.date(2025, 6, 1)
# As text "10000000" sorts before "2000000"; as numbers it comes after.
LOW_ID, HIGH_ID = 2_000_000, 10_000_000


def test_the_spare_cent_of_a_tie_goes_to_the_member_with_the_lower_numeric_id(client):
    small = make_small()
    tied = {}
    for pk in (HIGH_ID, LOW_ID):
        member = factories.make_member(pk=pk, first_name=f"Pari {pk}")
        Membership.objects.create(
            member=member,
            community=small.community,
            kind="CONSUMER",
            valid_from=dt.date(2024, 1, 1),
            iban=factories.IBAN,
        )
        small.points[str(pk)] = factories.make_connection_point(small.community, member)
        tied[pk] = member
    add_readings(
        small,
        JUNE,
        withdrawn_wh={
            "household": 700,
            "sme": 1500,
            "producer": 100,
            **dict.fromkeys((str(HIGH_ID), str(LOW_ID)), 200),
        },
    )
    add_prices(JUNE)
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    amount_cents = int((run.incentive_eur + run.valorisation_eur - run.gse_fees_eur) * 100)
    # A fixed pot of one cent when needed leaves an odd number of cents for the two halves.
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[{"code": "fee", "label": "Fee", "fixed_eur": Decimal(1 - amount_cents % 2) / 100}],
        components=[{"basis": "CUSTOM", "percent": Decimal(100)}],
        custom_weights={LOW_ID: Decimal(1), HIGH_ID: Decimal(1)},
        actor=None,
        now=NOW,
    )
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="r")
    )

    response = client.post(
        reverse("settlement:run_distribute", kwargs={"pk": run.pk}), {"confirmed": "yes"}
    )

    assert response.status_code == 302
    shares = dict(Distribution.objects.get(run=run).shares.values_list("member_id", "amount_eur"))
    assert shares[LOW_ID] == shares[HIGH_ID] + Decimal("0.01")
