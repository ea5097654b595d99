"""Disputes on statement lines: states, history, the mediator, notices, corrected versions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from cer.billing.disputes import DisputeError, act_on_dispute, open_dispute
from cer.billing.models import DisputeState, Statement, StatementStatus
from cer.members.models import Membership
from cer.notifications.models import Notification
from tests import factories
from tests.factories.billing import NOW, distributed_small

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Assert on the English texts whatever the translations say."""
    with translation.override("en"):
        yield


def _member_user(member):
    user = User.objects.create_user(f"user{member.pk}", email=member.email)
    member.user = user
    member.save(update_fields=["user"])
    return user


def test_a_dispute_resolved_in_the_members_favour_issues_a_corrected_version(
    django_capture_on_commit_callbacks,
):
    small, _ = distributed_small()
    member_user = _member_user(small.household)
    referente = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    statement = Statement.objects.get(member=small.household)
    line = statement.lines.get()

    with django_capture_on_commit_callbacks(execute=True):
        dispute = open_dispute(line=line, actor=member_user, message="Too little", now=NOW)
        act_on_dispute(
            dispute=dispute, action="answer", actor=referente, message="Checking", now=NOW
        )
        resolved = act_on_dispute(
            dispute=dispute,
            action="resolve",
            actor=referente,
            message="You are right",
            now=NOW,
            amount_eur=Decimal("1.25"),
        )

    corrected = resolved.corrected_statement
    assert resolved.state == DisputeState.RESOLVED
    assert corrected.version == 2
    assert corrected.amount_eur == statement.amount_eur + Decimal("1.25")
    assert Statement.objects.get(pk=statement.pk).status == StatementStatus.SUPERSEDED
    assert [e.to_state for e in resolved.events.all()] == ["OPEN", "ANSWERED", "RESOLVED"]
    assert corrected.lines.get(kind="SHARE").origin_id == line.pk
    # Each step tells the parties through the notification centre (its e-mails are
    # retried): the member of the opening, the answer and the decision.
    told = Notification.objects.filter(user=member_user, topic__startswith="billing.dispute")
    assert list(told.order_by("pk").values_list("topic", flat=True)) == [
        "billing.dispute.opened",
        "billing.dispute.answered",
        "billing.dispute.resolved",
    ]
    assert (
        Notification.objects.filter(user=referente, topic__startswith="billing.dispute").count()
        == 3
    )


def test_an_escalated_dispute_gives_the_mediator_access_to_that_dispute_only():
    small, _ = distributed_small()
    member_user = _member_user(small.household)
    referente = factories.make_user_with_role(small.community, role="REFERENTE", username="ref")
    mediator = User.objects.create_user("mediatore", email="m@example.org")
    line = Statement.objects.get(member=small.household).lines.get()
    other_line = Statement.objects.get(member=small.sme).lines.get()
    dispute = open_dispute(line=line, actor=member_user, message="No", now=NOW)
    other = open_dispute(line=other_line, actor=None, message="No", now=NOW)

    act_on_dispute(
        dispute=dispute,
        action="escalate",
        actor=referente,
        message="Mediate",
        now=NOW,
        mediator=mediator,
    )
    dispute.refresh_from_db()

    assert mediator.has_perm("settlement.view_dispute", dispute)
    assert not mediator.has_perm("settlement.view_dispute", other)
    assert not mediator.has_perm("settlement.view_statement", line.statement)
    assert not Membership.objects.filter(member__user=mediator).exists()


def test_a_rejected_dispute_cannot_be_answered_again():
    small, _ = distributed_small()
    line = Statement.objects.get(member=small.household).lines.get()
    dispute = open_dispute(line=line, actor=None, message="No", now=NOW)
    act_on_dispute(dispute=dispute, action="reject", actor=None, message="No basis", now=NOW)

    with pytest.raises(DisputeError):
        act_on_dispute(dispute=dispute, action="answer", actor=None, message="", now=NOW)
