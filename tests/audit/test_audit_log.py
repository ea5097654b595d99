"""The audit log records who did what, and refuses to be rewritten."""

from __future__ import annotations

import datetime as dt

import pytest

from cer.audit.models import AuditEntry, AuditEntryIsAppendOnly
from cer.audit.services import field_changes, record
from tests import factories

NOW = dt.datetime(2025, 3, 30, 1, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_an_action_is_recorded_with_actor_object_and_changes(referente, community):
    member = factories.make_member()

    entry = record(
        actor=referente,
        code="members.member.updated",
        now=NOW,
        target=member,
        community=community,
        changes={"email": ["a@example.org", "b@example.org"]},
    )

    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.actor_name == "referente"
    assert stored.target_type == "members.member"
    assert stored.target_id == str(member.pk)
    assert stored.changes == {"email": ["a@example.org", "b@example.org"]}


@pytest.mark.django_db
def test_audit_entries_cannot_be_changed_or_deleted(referente):
    entry = record(actor=referente, code="system.test", now=NOW)

    entry.code = "tampered"
    with pytest.raises(AuditEntryIsAppendOnly):
        entry.save()
    with pytest.raises(AuditEntryIsAppendOnly):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).code == "system.test"


@pytest.mark.django_db
def test_a_system_job_is_recorded_without_an_actor():
    entry = record(actor=None, code="sharing.month.computed", now=NOW)

    assert entry.actor is None and entry.actor_name == ""


@pytest.mark.django_db
def test_field_changes_lists_only_what_changed():
    before = factories.make_member(email="old@example.org")
    after = type(before).objects.get(pk=before.pk)
    after.email = "new@example.org"

    assert field_changes(before, after, ["email", "first_name"]) == {
        "email": ["old@example.org", "new@example.org"]
    }
