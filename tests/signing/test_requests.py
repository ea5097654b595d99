"""Sending for signature (who, refusals), reminders, and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse as django_reverse
from django.utils import timezone, translation

from cer.core import periodic
from cer.notifications.models import Notification
from cer.signing import notices, services
from cer.signing.models import SignatureRequest
from tests import factories
from tests.api.conftest import client_for
from tests.documents.pki import sign_pdf

pytestmark = pytest.mark.django_db


def reverse(name, args=()):
    with translation.override("en"):
        return django_reverse(name, args=args)


def post_send(client, manager, community, **fields):
    client.force_login(manager)
    return client.post(reverse("signing:send", args=[community.pk]), fields)


def test_a_person_named_by_tax_code_is_found_by_their_account(
    client, manager, founded, statute, anna, bruno
):
    response = post_send(
        client,
        manager,
        founded,
        version=statute.versions.get().pk,
        kind="QUALIFIED",
        who="BY_NAME",
        people=f"Anna Bianchi; {anna.tax_code.lower()}; anna@example.org",
    )

    assert response.status_code == 302
    signer = SignatureRequest.objects.get().signers.get()
    assert (signer.user, signer.tax_code) == (anna.user, anna.tax_code)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"who": "BY_NAME", "people": "Mario Rossi; RSSMRA80A01H501U"}, "Line 1: write name"),
        (
            {"who": "BY_NAME", "people": "Mario Rossi; RSSMRA80A01H501U; nessuno@example.org"},
            "No account for Mario Rossi",
        ),
        ({"who": "CHOSEN"}, "Choose at least one member."),
    ],
)
def test_a_bad_list_of_signers_is_refused_naming_the_field(
    client, manager, founded, statute, anna, fields, message
):
    response = post_send(
        client, manager, founded, version=statute.versions.get().pk, kind="QUALIFIED", **fields
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert SignatureRequest.objects.count() == 0


def test_a_founder_without_an_account_is_named_in_the_refusal(
    client, manager, founded, statute, anna
):
    factories.make_membership(founded, member=factories.make_member(last_name="Senzaconto"))

    response = post_send(
        client,
        manager,
        founded,
        version=statute.versions.get().pk,
        kind="QUALIFIED",
        who="FOUNDERS",
    )

    assert response.status_code == 400
    assert "Senzaconto" in response.content.decode()


def test_the_signers_are_told_and_reminded_every_three_days_at_most_three_times(
    founded, statute, anna, bruno, django_capture_on_commit_callbacks
):
    now = timezone.now()
    recipients = services.resolve_recipients(
        community=founded,
        version=statute.versions.get(),
        who="FOUNDERS",
        members=[],
        people=[],
        today=now.date(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.send_for_signature(
            version=statute.versions.get(),
            kind="QUALIFIED",
            recipients=recipients,
            message="",
            actor=None,
            now=now,
        )
    told = Notification.objects.filter(topic="documents.document.to_sign")
    assert {n.user for n in told} == {anna.user, bruno.user}

    counts = [notices.remind_due(now + dt.timedelta(days=days)) for days in (1, 3, 3, 6, 9, 12)]

    assert counts == [0, 2, 0, 2, 2, 0]
    reminders = Notification.objects.filter(topic=notices.SIGNATURE_REMINDER.code)
    assert reminders.filter(user=anna.user).count() == 3


def test_the_reminder_job_is_registered():
    assert "signing.reminders" in {job.name for job in periodic.all_jobs()}


def test_the_api_lists_requests_to_managers_and_takes_a_signers_file(
    manager, founded, statute, anna, bruno, pki
):
    request = services.send_for_signature(
        version=statute.versions.get(),
        kind="QUALIFIED",
        recipients=services.resolve_recipients(
            community=founded,
            version=statute.versions.get(),
            who="FOUNDERS",
            members=[],
            people=[],
            today=timezone.localdate(),
        ),
        message="",
        actor=manager,
        now=timezone.now(),
    )
    signer = request.signers.get(user=anna.user)
    signed = sign_pdf(pki, anna.party, statute.versions.get().file.read())

    mine = client_for(anna.user).get("/api/v1/signatures/mine").json()
    wrong = client_for(bruno.user).post(
        "/api/v1/signatures/mine",
        {"signer": signer.pk, "file": SimpleUploadedFile("s.pdf", signed)},
        format="multipart",
    )
    refused = client_for(bruno.user).post(
        "/api/v1/signatures/mine",
        {
            "signer": request.signers.get(user=bruno.user).pk,
            "file": SimpleUploadedFile("s.pdf", signed),
        },
        format="multipart",
    )
    accepted = client_for(anna.user).post(
        "/api/v1/signatures/mine",
        {"signer": signer.pk, "file": SimpleUploadedFile("s.pdf", signed)},
        format="multipart",
    )
    listed = client_for(manager).get(f"/api/v1/communities/{founded.pk}/signature-requests")
    member_view = client_for(anna.user).get(f"/api/v1/communities/{founded.pk}/signature-requests")

    assert [row["id"] for row in mine["results"]] == [signer.pk]
    assert wrong.status_code == 400 and "Nessuna firma corrispondente" in str(wrong.json())
    assert refused.status_code == 422  # read, refused, kept with its check
    assert refused.json()["refusals"][0]["code"] == "wrong_signer"
    assert accepted.status_code == 201 and accepted.json()["accepted"] is True
    statuses = {s["tax_code"]: s["status"] for s in listed.json()["results"][0]["signers"]}
    assert statuses == {anna.tax_code: "SIGNED", bruno.tax_code: "PENDING"}
    assert member_view.status_code == 403
