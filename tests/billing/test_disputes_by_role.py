"""Disputes by role, through the web: the member replies or withdraws, the referente answers,
escalates and decides, the mediator replies and recommends; a step outside one's role is
refused on a styled page in the reader's language. Each journey in Italian and English."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import translation

from cer.access.rules import BACK_OFFICE_GROUP
from cer.audit.models import AuditEntry
from cer.billing.disputes import DisputeRefused, act_on_dispute, available_actions, open_dispute
from cer.billing.models import Dispute, DisputeEvent, DisputeState, LineKind, Statement
from cer.core import formatting
from tests import factories
from tests.factories.billing import NOW, distributed_small

pytestmark = pytest.mark.django_db

LANGUAGES = ["it", "en"]
MEMBER_STEPS = {"reply", "withdraw"}
REFERENTE_STEPS = {"answer", "escalate", "resolve", "reject"}


@pytest.fixture
def people():
    """The small configuration's June, its household member with an account, the referente
    and a back-office user who can be invited to mediate."""
    small, _ = distributed_small()
    member = User.objects.create_user("famiglia", email=small.household.email)
    member.first_name, member.last_name = "Maria", "Famiglia"
    member.save()
    small.household.user = member
    small.household.save(update_fields=["user"])
    referente = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    mediator = User.objects.create_user("mediatrice", first_name="Lucia", last_name="Terzi")
    mediator.groups.add(Group.objects.get(name=BACK_OFFICE_GROUP))
    line = Statement.objects.get(member=small.household).lines.get()
    return small, member, referente, mediator, line


# The refusal in each language (the Italian is the catalogue's translation).
NOT_YOUR_STEP = {
    "it": "non è tra i passaggi che puoi fare su questa contestazione",
    "en": "is not one of your steps on this dispute",
}


def _url(name: str, lang: str, pk: int) -> str:
    with translation.override(lang):
        return reverse(name, kwargs={"pk": pk})


def _offered(html: str) -> set[str]:
    """The steps the page's form offers (its radio buttons)."""
    every = {"reply", "withdraw", "answer", "escalate", "resolve", "reject", "recommend"}
    return {step for step in every if f'name="action" value="{step}"' in html}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_member_opens_replies_and_withdraws_and_sees_only_those_steps(client, people, lang):
    _small, member, _referente, _mediator, line = people
    client.force_login(member)

    opened = client.post(_url("billing:dispute_open", lang, line.pk), {"message": "Troppo poco"})
    dispute = Dispute.objects.get(line=line)
    page = client.get(_url("billing:dispute", lang, dispute.pk)).content.decode()
    client.post(_url("billing:dispute", lang, dispute.pk), {"action": "reply", "message": "Ecco"})
    asked = client.post(_url("billing:dispute", lang, dispute.pk), {"action": "withdraw"})
    state_while_asked = Dispute.objects.get(pk=dispute.pk).state
    done = client.post(
        _url("billing:dispute", lang, dispute.pk), {"action": "withdraw", "confirmed": "yes"}
    )

    assert opened.status_code == 302
    assert f'<html lang="{lang}">' in page
    assert _offered(page) == MEMBER_STEPS
    assert 'name="mediator"' not in page
    assert 'name="amount_eur"' not in page
    assert formatting.eur(line.amount_eur, lang=lang) in page
    with translation.override(lang):
        assert line.shown_description in page  # in the page's language, month in words
    opened_at = DisputeEvent.objects.get(dispute=dispute, from_state="").at
    assert formatting.moment(opened_at, lang=lang) in page
    assert "Maria Famiglia" in page and "Troppo poco" in page
    assert asked.status_code == 200
    assert 'name="confirmed" value="yes"' in asked.content.decode()
    assert state_while_asked == DisputeState.OPEN
    assert done.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.WITHDRAWN
    assert [(e.from_state, e.to_state) for e in dispute.events.all()] == [
        ("", "OPEN"),
        ("OPEN", "OPEN"),
        ("OPEN", "WITHDRAWN"),
    ]
    assert AuditEntry.objects.filter(code="billing.dispute.withdrawn", actor=member).count() == 1
    closed = client.get(_url("billing:dispute", lang, dispute.pk)).content.decode()
    assert _offered(closed) == set()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_member_posting_a_referente_step_gets_a_styled_refusal_in_their_language(
    client, people, lang
):
    _small, member, _referente, _mediator, line = people
    dispute = open_dispute(line=line, actor=member, message="No", now=NOW)
    client.force_login(member)

    refused = [
        client.post(
            _url("billing:dispute", lang, dispute.pk),
            {"action": action, "message": "Ho ragione io", "amount_eur": amount},
        )
        for action, amount in (("answer", ""), ("resolve", ""), ("reject", ""))
    ]

    for response in refused:
        html = response.content.decode()
        assert response.status_code == 403
        assert f'<html lang="{lang}">' in html
        assert 'class="topbar"' in html  # the site's frame, not a bare "403 Forbidden"
        assert NOT_YOUR_STEP[lang] in html
        assert _url("billing:dispute", lang, dispute.pk) in html  # the way back
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.OPEN
    assert dispute.events.count() == 1
    assert dispute.corrected_statement is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_referente_answers_escalates_and_resolves_with_an_award_the_mediator_recommends(
    client, people, lang
):
    small, member, referente, mediator, line = people
    dispute = open_dispute(line=line, actor=member, message="Manca qualcosa", now=NOW)
    url = _url("billing:dispute", lang, dispute.pk)
    before = Statement.objects.get(member=small.household)

    client.force_login(referente)
    referente_page = client.get(url).content.decode()
    client.post(url, {"action": "answer", "message": "Verifico"})
    client.post(url, {"action": "escalate", "message": "Serve un terzo", "mediator": mediator.pk})
    client.force_login(mediator)
    mediator_page = client.get(url).content.decode()
    mediator_refused = client.post(url, {"action": "resolve", "message": "Risolvo io"})
    client.post(url, {"action": "recommend", "message": "Il socio ha ragione"})
    client.force_login(referente)
    asked = client.post(url, {"action": "resolve", "message": "Accolta", "amount_eur": "1.25"})
    client.post(
        url, {"action": "resolve", "message": "Accolta", "amount_eur": "1.25", "confirmed": "yes"}
    )
    client.force_login(member)
    member_page = client.get(url).content.decode()

    assert _offered(referente_page) == REFERENTE_STEPS
    assert '<select name="mediator"' in referente_page
    assert f'<option value="{mediator.pk}">' in referente_page
    assert 'name="amount_eur"' in referente_page
    assert _offered(mediator_page) == {"reply", "recommend"}
    assert 'name="amount_eur"' not in mediator_page
    assert mediator_refused.status_code == 403
    assert 'class="topbar"' in mediator_refused.content.decode()
    assert formatting.eur(Decimal("1.25"), lang=lang) in asked.content.decode()
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.RESOLVED
    assert dispute.mediator == mediator
    assert [e.to_state for e in dispute.events.all()] == [
        "OPEN",
        "ANSWERED",
        "ESCALATED",
        "ANSWERED",
        "RESOLVED",
    ]
    corrected = dispute.corrected_statement
    assert corrected.version == before.version + 1
    assert corrected.amount_eur == before.amount_eur + Decimal("1.25")
    award = corrected.lines.get(kind=LineKind.ADJUSTMENT)
    assert award.amount_eur == Decimal("1.25")
    assert formatting.eur(Decimal("1.25"), lang=lang) in member_page
    assert "Lucia Terzi" in member_page and "Il socio ha ragione" in member_page
    assert _offered(member_page) == set()
    codes = set(
        AuditEntry.objects.filter(code__startswith="billing.dispute.").values_list(
            "code", flat=True
        )
    )
    assert {"billing.dispute.escalated", "billing.dispute.recommended"} <= codes


def test_a_members_reply_to_an_answer_puts_the_dispute_back_to_the_referente(people):
    _small, member, referente, _mediator, line = people
    dispute = open_dispute(line=line, actor=member, message="No", now=NOW)
    act_on_dispute(dispute=dispute, action="answer", actor=referente, message="È giusto", now=NOW)

    replied = act_on_dispute(
        dispute=dispute, action="reply", actor=member, message="Non credo", now=NOW
    )

    assert replied.state == DisputeState.OPEN


def test_a_manager_who_is_a_party_may_only_escalate_their_own_dispute(people):
    small, _member, referente, _mediator, _line = people
    # The referente opened it (on another member's line), so they are a party to it.
    dispute = open_dispute(
        line=Statement.objects.get(member=small.sme).lines.get(),
        actor=referente,
        message="Mio",
        now=NOW,
    )

    offered = available_actions(dispute, referente, today=NOW.date())

    assert set(offered) == {"reply", "withdraw", "escalate"}
    with pytest.raises(DisputeRefused):
        act_on_dispute(
            dispute=dispute,
            action="resolve",
            actor=referente,
            message="",
            now=NOW,
            amount_eur=Decimal("5"),
        )
    dispute.refresh_from_db()
    assert dispute.state == DisputeState.OPEN
