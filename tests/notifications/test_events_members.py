"""Members events that notify, end to end: a changed IBAN (to the person, at once),
invitations sent and about to expire."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from cer.core import formatting
from cer.core.models import PeriodicRun
from cer.notifications.delivery import deliver_due
from cer.notifications.models import Delivery, Notification
from tests import factories
from tests.members.smtp import body_of
from tests.members.test_records import NEW_IBAN, _edit_data

pytestmark = pytest.mark.django_db


def test_an_iban_changed_by_the_referente_tells_the_person_at_once(
    client, community, referente, smtp_server, django_capture_on_commit_callbacks
):
    anna = factories.make_membership(
        community, member=factories.make_member(first_name="Anna", last_name="Bianchi")
    )
    person = User.objects.create_user("anna", email="anna@example.org")
    anna.member.user, anna.member.email = person, "anna@example.org"
    anna.member.save(update_fields=["user", "email"])
    client.force_login(referente)

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("members:membership_edit", args=[anna.pk]),
            {**_edit_data(anna, NEW_IBAN), "confirmed": "yes"},
        )

    assert done.status_code == 302
    notice = Notification.objects.get(user=person)
    assert notice.topic == "members.membership.iban_changed"
    assert notice.urgent
    # Urgent: due at once, whatever quiet hours the person keeps.
    assert Delivery.objects.get(notification=notice).next_attempt_at == notice.created_at
    deliver_due(timezone.now())
    # One e-mail: the member's address is the account's, so no second plain one.
    (message,) = smtp_server.messages
    assert message["To"] == "anna@example.org"
    assert message["Subject"].strip() == "IBAN modificato per CER Prova"
    text = body_of(message)
    assert "Nuovo IBAN: IT53…3456" in text
    assert NEW_IBAN not in text  # masked, never in full
    # Mandatory: no unsubscribe link.
    assert message["List-Unsubscribe"] is None


def test_an_invitation_sent_tells_the_other_managers_and_reminds_its_inviter_before_expiry(
    client, community, referente, smtp_server, django_capture_on_commit_callbacks
):
    from cer.core import periodic
    from cer.members.models import Invitation
    from tests.members.test_onboarding import invite

    referente.email = "ref@example.org"
    referente.save()
    administrator = factories.make_user_with_role(community, role="ADMINISTRATOR", username="admin")
    client.force_login(referente)

    invite(client, community, django_capture_on_commit_callbacks)

    # The invitee has no account: the invitation e-mail is theirs, sent at once.
    (invitation_mail,) = smtp_server.messages
    assert invitation_mail["To"] == "nuova@example.org"
    told = Notification.objects.get(topic="members.invitation.sent")
    assert told.user == administrator  # the inviter is not told of their own step
    invitation = Invitation.objects.get()

    early = periodic.run_due(
        invitation.expires_at - dt.timedelta(days=4), only={"members.invitations_expiring"}
    )
    due = invitation.expires_at - dt.timedelta(days=2)
    PeriodicRun.objects.all().delete()  # the job's next period, without waiting an hour
    first = periodic.run_due(due, only={"members.invitations_expiring"})
    PeriodicRun.objects.all().delete()
    again = periodic.run_due(due + dt.timedelta(hours=1), only={"members.invitations_expiring"})

    assert [o.result for o in early + first + again] == [0, 1, 0]
    reminder = Notification.objects.get(topic="members.invitation.expiring")
    assert reminder.user == referente
    deliver_due(Delivery.objects.get(notification=reminder).next_attempt_at)
    message = smtp_server.messages[-1]
    assert message["To"] == "ref@example.org"
    # An ordinary topic: it comes in the inviter's daily digest.
    assert message["Subject"] == "CER Prova: 1 nuove notifiche"
    expires = formatting.moment(invitation.expires_at)
    assert f"L'invito a nuova@example.org scade il {expires}" in body_of(message)
