"""The member portal puts money first: the month and the year in euro, paid and to be paid,
each month's status in words, one sentence on energy and one on the share; applicants read
where their application stands. Through the web client, in Italian and in English."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation

from cer.billing.models import Statement, StatementStatus
from cer.billing.payout_lifecycle import record_outcome, record_sent
from cer.billing.payout_models import PayoutItemStatus
from cer.billing.payouts import create_payout, payout_file
from cer.core import formatting
from tests import factories
from tests.factories.billing import DEBTOR, JUNE, NOW, distributed_small

pytestmark = pytest.mark.django_db

PAID_AT = dt.datetime(2025, 7, 10, 9, 0, tzinfo=dt.UTC)


# The portal's words in each language (the Italian ones are the catalogue's translations).
FINAL_PAID = {"it": "definitivo, pagato il %s", "en": "final, paid on %s"}
ESTIMATE = {"it": "stima, non ancora pagato", "en": "estimate, not yet paid"}
TOOK = {"it": "Hai prelevato %s dalla rete.", "en": "You took %s from the grid."}
SHARED_OF = {"it": "Dei %s condivisi dalla comunità", "en": "Of the %s the community shared"}
APPLIED = {
    "it": "La tua domanda di adesione a CER di Bari è stata inviata il",
    "en": "Your application to join CER di Bari was sent on",
}


@pytest.fixture
def paid_june():
    """June 2025 distributed from a final run and paid to the household; July not settled."""
    small, _distribution = distributed_small(final=True)
    user = User.objects.create_user("anna", password="prova-password-2025")
    small.household.user = user
    small.household.save(update_fields=["user"])
    batch = create_payout(
        configuration=small.configuration,
        period_start=JUNE,
        period_end=dt.date(2025, 7, 1),
        actor=None,
        now=NOW,
        **DEBTOR,
    )
    payout_file(batch=batch, actor=None, now=NOW)
    batch.refresh_from_db()
    record_sent(batch=batch, sent_date=dt.date(2025, 7, 3), actor=None, now=NOW)
    item = batch.items.get(member=small.household)
    record_outcome(item=item, outcome=PayoutItemStatus.SETTLED, actor=None, now=PAID_AT)
    statement = Statement.objects.get(member=small.household, status=StatementStatus.CURRENT)
    return small, user, statement


def _portal(client, user, lang, period):
    client.force_login(user)
    with translation.override(lang):
        url = reverse("dashboards:member_portal")
        response = client.get(url, {"period": period}, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("lang", ["it", "en"])
def test_a_paid_month_shows_what_was_earned_paid_and_when(client, paid_june, lang):
    _small, user, statement = paid_june

    response = _portal(client, user, lang, "2025-06")

    page = response.content.decode()
    money = response.context["money"]
    assert money.month.position.position_eur == statement.amount_eur > 0
    assert money.month.position.paid_eur == statement.amount_eur
    assert money.year_position.to_pay_eur == 0
    amount = formatting.eur(statement.amount_eur, lang=lang)
    assert amount in page
    assert formatting.month(JUNE, lang=lang) in page
    # Italian amounts read "12,34 €", English "€12.34".
    assert ("\u00a0€" in amount) == (lang == "it")
    paid_on = formatting.day(PAID_AT.date(), lang=lang)
    assert (FINAL_PAID[lang] % paid_on) in page
    assert reverse("billing:statement", args=[statement.pk]) in page


@pytest.mark.parametrize("lang", ["it", "en"])
def test_an_unsettled_month_is_an_estimate_not_yet_paid(client, paid_june, lang):
    _small, user, statement = paid_june

    response = _portal(client, user, lang, "2025-07")

    page = response.content.decode()
    money = response.context["money"]
    assert money.month.month == dt.date(2025, 7, 1)
    assert money.month.estimate_eur is not None
    assert not money.month.has_statement
    assert money.month.status == ESTIMATE[lang]
    assert ESTIMATE[lang] in page
    # The year still counts June's paid statement, and not the estimate.
    assert money.year_position.position_eur == statement.amount_eur
    assert money.year_position.paid_eur == statement.amount_eur
    assert formatting.month(dt.date(2025, 7, 1), lang=lang) in page


@pytest.mark.parametrize("lang", ["it", "en"])
def test_energy_and_share_are_one_sentence_each_in_kwh(client, paid_june, lang):
    _small, user, _statement = paid_june

    response = _portal(client, user, lang, "2025-06")

    page = response.content.decode()
    own = response.context["own_wh"]
    assert own["withdrawn"] > 0 and own["as_consumer"] > 0
    assert (TOOK[lang] % formatting.kwh(own["withdrawn"], lang=lang)) in page
    # The household's part of the shared energy, against the community's shared energy
    # itself (never the consumers' and producers' sides added together).
    shared = formatting.kwh(own["community_shared"], lang=lang)
    assert (SHARED_OF[lang] % shared) in page
    assert 0 < response.context["own_consumer_pct"] <= 100
    assert response.context["chart"]["locale"]["decimal"] == ("," if lang == "it" else ".")


def test_a_partly_unpaid_month_says_settled_provisional_not_yet_paid(client):
    small, _distribution = distributed_small(final=False)
    user = User.objects.create_user("anna", password="prova-password-2025")
    small.household.user = user
    small.household.save(update_fields=["user"])

    response = _portal(client, user, "en", "2025-06")

    statement = Statement.objects.get(member=small.household, status=StatementStatus.CURRENT)
    money = response.context["money"]
    assert money.year_position.to_pay_eur == statement.amount_eur > 0
    assert "settled, provisional, not yet paid" in response.content.decode()
    assert formatting.eur(statement.amount_eur, lang="en") in response.content.decode()


@pytest.mark.parametrize("lang", ["it", "en"])
def test_an_applicant_sees_their_application_waiting_for_approval(client, lang):
    community = factories.make_community(name="CER di Bari")
    application = factories.make_application(community)

    response = _portal(client, application.user, lang, "")

    page = response.content.decode()
    assert APPLIED[lang] in page
    assert formatting.day(application.submitted_at.date(), lang=lang) in page
    assert "not a member of a community" not in page


def test_an_account_without_application_nor_member_is_told_so(client):
    user = User.objects.create_user("solo", password="prova-password-2025")

    response = _portal(client, user, "en", "")

    assert "not linked to a member" in response.content.decode()
