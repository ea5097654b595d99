"""The demo's collections: mandates, the 2025 fee collected, one debit returned with AM04."""

from __future__ import annotations

import datetime as dt

import pytest

from cer.collections import income
from cer.collections.models import Mandate, PaymentRequest, RequestState
from cer.demo.collections import load_collections
from tests.factories.communities import make_community
from tests.factories.members import make_membership

pytestmark = pytest.mark.django_db


def test_the_demo_fee_is_collected_but_one_debit_returned_and_a_second_load_adds_nothing():
    community = make_community()
    for _n in range(3):
        make_membership(community)

    paid = load_collections(community)
    again = load_collections(community)

    assert paid == 2 and again == 0
    assert Mandate.objects.filter(community=community).count() == 3
    states = sorted(PaymentRequest.objects.values_list("state", "reason_code"))
    assert states == [
        (RequestState.PAID, ""),
        (RequestState.PAID, ""),
        (RequestState.RETURNED, "AM04"),
    ]
    received = income.collected(community.pk, dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    assert [c.paid_date for c in received] == [dt.date(2025, 3, 17)] * 2
