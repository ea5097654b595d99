"""Money events that notify, end to end: a new statement, a payout sent, a dispute's steps.

Each test acts through a page, runs the sender and reads what the local SMTP server got.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from cer.billing.models import Statement
from cer.notifications.delivery import deliver_due
from cer.notifications.models import Notification
from cer.settlement.services import compute_month
from tests import factories
from tests.factories.billing import APRIL_NOW, JUNE, NOW, batch_of_three, distributed_small
from tests.factories.settlement import settled_small
from tests.members.smtp import body_of

pytestmark = pytest.mark.django_db


def _account(member, username):
    user = User.objects.create_user(username, email=f"{username}@example.org")
    member.user = user
    member.save(update_fields=["user"])
    return user


def _send_due():
    deliver_due(timezone.now())


def test_distributing_a_month_tells_each_member_of_their_new_statement(
    client, smtp_server, django_capture_on_commit_callbacks
):
    from cer.distribution.services import set_policy

    small = settled_small()
    anna = _account(small.household, "anna")
    set_policy(
        community=small.community,
        valid_from=JUNE,
        pots=[],
        components=[{"basis": "CONTRIBUTION", "percent": 100}],
        actor=None,
        now=NOW,
    )
    run = compute_month(configuration=small.configuration, month=JUNE, now=NOW).run
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("settlement:run_distribute", kwargs={"pk": run.pk}), {"confirmed": "yes"}
        )
    _send_due()

    assert response.status_code == 302
    statement = Statement.objects.get(member=small.household)
    amount = f"{statement.amount_eur:.2f}".replace(".", ",") + "\xa0€"
    notice = Notification.objects.get(user=anna)
    assert notice.topic == "billing.statement.issued"
    assert notice.link == f"/settlement/statements/{statement.pk}/"
    # Only the member with an account is told; the others have no inbox.
    assert Notification.objects.filter(topic="billing.statement.issued").count() == 1
    (message,) = smtp_server.messages
    assert message["To"] == "anna@example.org"
    # Written in Italian, the recipient's language. A long non-ASCII subject is folded onto
    # a continuation line, which Python's parser reads back with a leading space: strip it.
    assert message["Subject"].strip() == f"Il tuo rendiconto di giugno 2025: {amount}"
    assert "(versione 1)" in body_of(message)


def test_a_dispute_opened_answered_and_resolved_tells_the_parties_and_the_award(
    client, smtp_server, django_capture_on_commit_callbacks
):
    small, _ = distributed_small()
    member = _account(small.household, "anna")
    referente = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    referente.email = "ref@example.org"
    referente.save()
    line = Statement.objects.get(member=small.household).lines.get()

    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("billing:dispute_open", args=[line.pk]), {"message": "Too little"})
    dispute = line.disputes.get()
    url = reverse("billing:dispute", args=[dispute.pk])
    client.force_login(referente)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "answer", "message": "Checking"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url,
            {
                "action": "resolve",
                "message": "You are right",
                "amount_eur": "1.25",
                "confirmed": "yes",
            },
        )
    _send_due()

    topics = list(
        Notification.objects.filter(user=member).order_by("pk").values_list("topic", flat=True)
    )
    assert topics == [
        "billing.dispute.opened",
        "billing.dispute.answered",
        "billing.statement.issued",
        "billing.dispute.resolved",
    ]
    assert Notification.objects.filter(user=referente).count() == 3
    to_member = [m for m in smtp_server.messages if m["To"] == "anna@example.org"]
    to_referente = [m for m in smtp_server.messages if m["To"] == "ref@example.org"]
    assert len(to_member) == 4 and len(to_referente) == 3
    assert (
        to_referente[0]["Subject"].strip()
        == f"È stata contestata una riga del rendiconto: contestazione n. {dispute.pk}"
    )
    award = next(m for m in to_member if m["Subject"].strip().startswith("Il tuo rendiconto"))
    # The reason is stored as the page wrote it, in Italian.
    assert f"Rettifica dopo la contestazione n. {dispute.pk}" in body_of(award)
    assert "(versione 2)" in body_of(award)
    assert to_member[-1]["Subject"].strip() == f"Contestazione n. {dispute.pk} decisa: risolta"


def test_a_payout_recorded_as_sent_tells_each_paid_member_the_amount(
    client, smtp_server, django_capture_on_commit_callbacks
):
    from cer.billing.payouts import payout_file

    small, batch = batch_of_three()
    payout_file(batch=batch, actor=None, now=APRIL_NOW)
    producer = _account(small.producer, "pietro")
    client.force_login(User.objects.create_user("tesoriere", is_staff=True))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("billing:payout", args=[batch.pk]),
            {"action": "sent", "sent_date": timezone.localdate().isoformat()},
        )
    _send_due()

    notice = Notification.objects.get(user=producer)
    assert notice.topic == "billing.payout.sent"
    (message,) = smtp_server.messages
    assert message["To"] == "pietro@example.org"
    assert message["Subject"].strip() == "Pagamento di 12,34\xa0€ inviato"
    iban = batch.items.get(member=small.producer).iban
    assert f"sul tuo conto che termina con {iban[-4:]}" in body_of(message)
