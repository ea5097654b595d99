"""Consents, export, erasure, retention and the register of processing activities."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.utils import timezone

from cer.accounts.models import LoginFailure
from cer.audit.models import AuditEntry
from cer.members.models import Member, Membership
from cer.plants.models import ConnectionPoint
from cer.privacy import gdpr
from cer.privacy.models import Consent, Erasure
from tests import factories
from tests.api.conftest import PASSWORD, assert_error, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(world):
    return world.objects["holder_user"]


def test_a_member_gives_and_withdraws_a_consent_with_notice_version_and_time(holder):
    client = client_for(holder)

    given = client.post("/api/v1/me/consents", {"purpose": "NEWSLETTER"}, format="json")
    withdrawn = client.delete("/api/v1/me/consents/NEWSLETTER")
    listed = client.get("/api/v1/me/consents").json()["results"]

    assert given.status_code == 201
    assert given.json()["notice"] == "1.0"
    assert withdrawn.json()["withdrawn_at"] is not None
    assert [c["purpose"] for c in listed] == ["NEWSLETTER"]
    assert Consent.objects.get(user=holder).withdrawn_at is not None


def test_withdrawing_a_consent_never_given_is_a_404(holder):
    assert_error(client_for(holder).delete("/api/v1/me/consents/NEWSLETTER"), 404, "not_found")


def test_the_current_notice_is_public(db):
    assert client_for(None).get("/api/v1/privacy-notice").json()["version"] == "1.0"


def test_the_export_holds_every_section_as_json_and_csv(holder, world):
    response = client_for(holder).get("/api/v1/me/export")

    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("data.json"))["sections"]
    assert data["member"][0]["fiscal_code"] == holder.member.fiscal_code
    assert "iban" not in data["member"][0]
    assert data["memberships"][0]["iban"] == "IT60X0542811101000000123456"
    assert data["connection_points"][0]["pod"] == world.objects["connection_point"].pod
    assert data["hourly_readings"][0]["injected_wh"] == 1234
    assert data["devices"][0]["name"] == "contatore"
    readings = list(csv.DictReader(io.StringIO(archive.read("hourly_readings.csv").decode())))
    assert readings[0]["withdrawn_wh"] == "500"
    assert "secret_hash" not in archive.read("devices.csv").decode()
    assert AuditEntry.objects.filter(code="privacy.data.exported", actor=holder).exists()


def test_the_export_holds_nothing_about_other_people(holder, world, other_world):
    response = client_for(holder).get("/api/v1/me/export")

    text = zipfile.ZipFile(io.BytesIO(response.content)).read("data.json").decode()
    assert other_world.objects["member"].fiscal_code not in text
    assert world.objects["plant"].owner.fiscal_code in text  # the holder's own plant


def _end_membership(member: Member) -> None:
    Membership.objects.filter(member=member).update(valid_to=dt.date(2025, 1, 1))


def test_erasure_is_refused_while_the_membership_is_active(holder):
    response = client_for(holder).post(
        "/api/v1/me/erasure", {"password": PASSWORD, "reason": "leaving"}, format="json"
    )

    assert_error(response, 409, "conflict")


def test_erasure_needs_the_password(holder):
    response = client_for(holder).post("/api/v1/me/erasure", {"password": "x"}, format="json")

    assert "password" in assert_error(response, 400, "invalid")["fields"]


def test_erasure_anonymises_the_person_and_keeps_what_the_law_requires(holder, world):
    member = holder.member
    _end_membership(member)
    fiscal_code = member.fiscal_code

    response = client_for(holder).post(
        "/api/v1/me/erasure", {"password": PASSWORD, "reason": "I moved away"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert "IBAN" in body["erased"]
    assert any("2220" in kept["reason"] for kept in body["kept"])
    member.refresh_from_db()
    holder.refresh_from_db()
    assert fiscal_code not in (member.fiscal_code, member.last_name)
    assert member.first_name == "" and member.phone == ""
    assert [m.iban for m in Membership.objects.filter(member=member)] == [""]
    assert not holder.is_active and not holder.has_usable_password()
    assert holder.username == f"erased-{holder.pk}"
    assert Membership.objects.filter(member=member).exists()
    assert ConnectionPoint.objects.get(holder=member).pod == world.objects["connection_point"].pod
    assert Erasure.objects.get(member=member).reason == "I moved away"
    assert AuditEntry.objects.filter(code="privacy.member.erased").exists()


def test_erased_tokens_stop_working(holder):
    _end_membership(holder.member)
    client = client_for(holder)
    client.post("/api/v1/me/erasure", {"password": PASSWORD}, format="json")

    assert_error(client.get("/api/v1/me"), 401)


def test_erasing_twice_is_refused(holder):
    _end_membership(holder.member)
    now = timezone.now()
    gdpr.erase_member(member=holder.member, actor=None, reason="first", now=now)

    with pytest.raises(gdpr.AlreadyErased):
        gdpr.erase_member(member=holder.member, actor=None, reason="again", now=now)


def test_retention_anonymises_members_ten_years_after_their_last_membership(world):
    member = world.objects["member"]
    Membership.objects.filter(member=member).update(
        valid_from=dt.date(2010, 1, 1), valid_to=dt.date(2014, 1, 1)
    )
    recent = factories.make_member()
    Membership.objects.create(
        member=recent,
        community=world.community,
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2022, 1, 1),
    )
    LoginFailure.objects.create(
        username="x", ip_address="127.0.0.1", at=timezone.now() - dt.timedelta(days=40)
    )

    outcome = gdpr.apply_retention(now=timezone.now())

    assert outcome["former_members"] == 1
    assert outcome["login_failures"] == 1
    assert Erasure.objects.get(member=member).reason.startswith("retention")
    assert not Erasure.objects.filter(member=recent).exists()


def test_the_retention_command_reports_each_rule(db, capsys):
    call_command("apply_retention")

    output = capsys.readouterr().out
    assert "former_members: 0" in output
    assert "login_failures: 0" in output


def test_the_referente_downloads_the_register_of_processing_activities(personas, world):
    client = client_for(personas["referente"])
    url = f"/api/v1/communities/{world.community.pk}/processing-register"

    as_json = client.get(url).json()
    as_csv = client.get(f"{url}.csv")

    assert as_json["controller"]["fiscal_code"] == world.community.fiscal_code
    assert {a["code"] for a in as_json["activities"]} >= {"membership", "energy_sharing"}
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert rows[0]["controller"] == world.community.name
    assert len(rows) == len(as_json["activities"])


def test_a_plain_member_cannot_download_the_register(personas, world):
    client = client_for(personas["member"])

    response = client.get(f"/api/v1/communities/{world.community.pk}/processing-register")

    assert_error(response, 403, "permission_denied")


def test_the_register_command_prints_csv(world, capsys):
    call_command("export_processing_register", community=world.community.pk)

    assert capsys.readouterr().out.startswith("controller,controller_fiscal_code,code")
