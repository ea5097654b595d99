"""pagoPA notices through the GPD adapter, against a local server that speaks GPD."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cer.collections import income
from cer.collections.errors import CollectionError
from cer.collections.mandates import save_settings
from cer.collections.models import NoticeStatus, PagoPANotice, RequestKind, RequestState
from cer.collections.pagopa.base import ProviderError
from cer.collections.pagopa.gpd import GpdProvider
from cer.collections.pagopa.services import issue_notice, make_iuv, refresh_notices
from cer.collections.requests import create_request
from tests.collections.conftest import CREDITOR_IBAN, NOW, creditor_id_for
from tests.collections.fake_gpd import FakeGpd

pytestmark = pytest.mark.django_db


@pytest.fixture
def gpd(settings):
    with FakeGpd() as fake:
        settings.PAGOPA_GPD_URL = fake.url
        settings.PAGOPA_GPD_SUBSCRIPTION_KEY = "chiave-prova"
        yield fake


@pytest.fixture
def fee(place):
    community = place.community
    save_settings(
        community=community,
        creditor_id=creditor_id_for(community.fiscal_code),
        creditor_name="Comune di Prova",
        creditor_iban=CREDITOR_IBAN,
        creditor_bic="BPMOIT22",
        prenotification_days=14,
        pagopa_enabled=True,
        actor=None,
        now=NOW,
    )
    return create_request(
        community=community,
        member=place.members[2],
        kind=RequestKind.MEMBERSHIP_FEE,
        amount_eur="25.00",
        due_date=dt.date(2025, 4, 30),
        description="Quota associativa 2025",
        actor=None,
        now=NOW,
    )


def _provider(gpd):
    return GpdProvider(base_url=gpd.url, subscription_key="k", sleep=lambda s: None)


def test_the_iuv_carries_its_check_digits():
    iuv = make_iuv(1, "01")
    assert iuv == "010000000000001" + f"{3010000000000001 % 93:02d}"
    assert len(iuv) == 17


def test_a_notice_is_created_published_and_paid_after_a_retry(gpd, fee):
    gpd.fail_next = 1

    notice = issue_notice(request=fee, actor=None, now=NOW, provider=_provider(gpd))

    assert [c[0] for c in gpd.calls] == ["POST", "POST", "POST"]  # 500, created, published
    assert notice.status == NoticeStatus.PUBLISHED
    assert notice.notice_number == f"3{notice.iuv}" and len(notice.notice_number) == 18
    sent = gpd.positions[notice.iupd]
    assert sent["paymentOption"][0]["amount"] == 2500
    assert sent["fiscalCode"] == fee.member.fiscal_code and sent["type"] == "F"
    assert sent["paymentOption"][0]["transfer"][0]["iban"] == CREDITOR_IBAN

    gpd.pay(notice.iupd)
    assert refresh_notices(now=NOW, provider=_provider(gpd)) == 1

    fee.refresh_from_db()
    assert fee.state == RequestState.PAID and fee.paid_date == dt.date(2025, 4, 2)
    received = income.collected(fee.community_id, dt.date(2025, 4, 1), dt.date(2025, 5, 1))
    assert [(c.reference, c.amount_eur) for c in received] == [(fee.reference, Decimal("25.00"))]


def test_an_unreachable_gpd_keeps_nothing_and_says_why(gpd, fee):
    gpd.fail_next = 5

    with pytest.raises(CollectionError) as unreachable:
        issue_notice(request=fee, actor=None, now=NOW, provider=_provider(gpd))

    assert "after 3 attempts" in str(unreachable.value) and "HTTP 500" in str(unreachable.value)
    assert len(gpd.calls) == 3
    assert not PagoPANotice.objects.exists()
    fee.refresh_from_db()
    assert fee.state == RequestState.OPEN


def test_an_answer_in_error_is_refused_naming_its_status(gpd):
    with pytest.raises(ProviderError) as refused:
        _provider(gpd).status("00000000000", "missing")
    assert refused.value.status == 404 and "HTTP 404" in str(refused.value)


def test_the_request_page_publishes_a_notice(manager_client, gpd, fee):
    response = manager_client.post(
        reverse("collections:request", args=[fee.pk]), {"action": "pagopa"}, follow=True
    )
    notice = PagoPANotice.objects.get()
    assert notice.notice_number in response.content.decode()
    assert "chiave-prova" in gpd.keys


def test_the_hourly_job_marks_a_paid_notice_paid(gpd, fee):
    from cer.core import periodic

    notice = issue_notice(request=fee, actor=None, now=NOW, provider=_provider(gpd))
    gpd.pay(notice.iupd, when="2025-04-03T23:30:00")

    outcomes = periodic.run_due(NOW, only={"collections.pagopa_refresh"})

    assert [o.name for o in outcomes] == ["collections.pagopa_refresh"]
    fee.refresh_from_db()
    # 23:30 in Rome on 3 April is still 3 April there.
    assert fee.state == RequestState.PAID and fee.paid_date == dt.date(2025, 4, 3)
