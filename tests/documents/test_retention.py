"""Retention: periods per type edited by managers, the review list, keep and delete."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from cer.audit.models import AuditEntry
from cer.documents import retention
from cer.documents.models import Document, DocumentVersion, RetentionPeriod
from tests import factories

pytestmark = pytest.mark.django_db


def dated(community, kind: str, day: dt.date, title: str) -> Document:
    document = factories.make_document(community, kind=kind)
    Document.objects.filter(pk=document.pk).update(document_date=day, title=title)
    document.refresh_from_db()
    return document


def review_ids(client, community) -> list[int]:
    response = client.get(reverse("documents:review", args=[community.pk]))
    assert response.status_code == 200
    return [row[0].document.pk for row in response.context["rows"]]


def test_expiry_counts_years_from_the_document_date():
    assert retention.expires_on(dt.date(2015, 3, 1), 10) == dt.date(2025, 3, 1)
    assert retention.expires_on(dt.date(2016, 2, 29), 10) == dt.date(2026, 2, 28)
    assert retention.expires_on(dt.date(2016, 2, 29), None) is None


def test_documents_past_retention_are_listed_for_review(client, referente, community):
    today = timezone.localdate()
    old_contract = dated(community, "CONTRACT", today.replace(year=today.year - 11), "Vecchio")
    dated(community, "CONTRACT", today.replace(year=today.year - 2), "Recente")
    dated(community, "STATUTE", today.replace(year=today.year - 30), "Statuto antico")
    client.force_login(referente)

    assert review_ids(client, community) == [old_contract.pk]
    # Nothing is deleted by listing it.
    assert Document.objects.filter(community=community).count() == 3


def test_a_manager_changes_a_period_through_the_page(client, referente, community):
    today = timezone.localdate()
    minutes = dated(community, "MINUTES", today.replace(year=today.year - 6), "Verbale 6 anni")
    client.force_login(referente)
    url = reverse("documents:retention", args=[community.pk])
    fields = {kind: years or "" for kind, years in retention.DEFAULT_YEARS.items()}

    refused = client.post(url, {**fields, "MINUTES": "0"})
    saved = client.post(url, {**fields, "MINUTES": "5"})

    assert refused.status_code == 400 and "MINUTES" in refused.context["form"].errors
    assert saved.status_code == 302
    assert RetentionPeriod.objects.get(community=community, kind="MINUTES").years == 5
    entry = AuditEntry.objects.get(code="documents.retention.changed")
    assert entry.changes == {"MINUTES": [None, 5]}
    assert review_ids(client, community) == [minutes.pk]


def test_keep_until_a_date_with_a_reason(client, referente, community):
    today = timezone.localdate()
    document = dated(community, "CONTRACT", today.replace(year=today.year - 12), "Contratto")
    client.force_login(referente)
    url = reverse("documents:keep", args=[document.pk])
    prefix = f"keep{document.pk}"

    missing = client.post(url, {f"{prefix}-keep_until": "2099-01-01"})
    past = client.post(
        url, {f"{prefix}-keep_until": today.isoformat(), f"{prefix}-keep_reason": "lite"}
    )
    kept = client.post(
        url, {f"{prefix}-keep_until": "2099-01-01", f"{prefix}-keep_reason": "lite in corso"}
    )

    assert missing.status_code == 400
    assert past.status_code == 400
    assert kept.status_code == 302
    document.refresh_from_db()
    assert (document.keep_until, document.keep_reason) == (dt.date(2099, 1, 1), "lite in corso")
    assert AuditEntry.objects.filter(code="documents.retention.kept").count() == 1
    assert review_ids(client, community) == []


def test_delete_asks_a_confirmation_naming_the_document(client, referente, community):
    today = timezone.localdate()
    document = dated(community, "CONTRACT", today.replace(year=today.year - 12), "Contratto X")
    version = document.versions.get()
    client.force_login(referente)
    url = reverse("documents:delete", args=[document.pk])

    asked = client.post(url)

    assert asked.status_code == 200
    assert "Contratto X" in asked.content.decode()
    assert Document.objects.filter(pk=document.pk).exists()

    done = client.post(url, {"confirmed": "yes"})

    assert done.status_code == 302
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not DocumentVersion.objects.filter(pk=version.pk).exists()
    entry = AuditEntry.objects.get(code="documents.document.deleted")
    assert entry.changes["title"] == "Contratto X" and entry.target_id == str(document.pk)


def test_deleted_files_leave_the_storage_after_commit(community, referente):
    document = factories.make_document(community, kind="CONTRACT")
    version = document.versions.get()
    storage, name = version.file.storage, version.file.name
    assert storage.exists(name)

    with TestCase.captureOnCommitCallbacks(execute=True):
        retention.delete_document(document=document, actor=referente, now=timezone.now())

    assert not storage.exists(name)


def test_members_and_other_managers_may_not_review(client, member_user, community):
    other = factories.make_community(name="CER Altrove", fiscal_code="00743110157")
    other_manager = factories.make_user_with_role(other, role="REFERENTE", username="altro")
    document = factories.make_document(community, kind="CONTRACT")

    for user in (member_user, other_manager):
        client.force_login(user)
        assert client.get(reverse("documents:review", args=[community.pk])).status_code == 403
        assert client.get(reverse("documents:retention", args=[community.pk])).status_code == 403
        response = client.post(
            reverse("documents:delete", args=[document.pk]), {"confirmed": "yes"}
        )
        assert response.status_code == 403
    assert Document.objects.filter(pk=document.pk).exists()
