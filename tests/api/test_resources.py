"""Reading and writing through the API: values, units, audit entries."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from rest_framework.test import APIClient

from cer.audit.models import AuditEntry
from cer.members.models import Member, Membership
from cer.metering import broker
from cer.metering.models import Device, HourlyReading, ReadingsVersion
from tests import factories
from tests.api.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def referente(personas, world):
    return client_for(personas["referente"])


def _member_body(**overrides):
    body = {
        "kind": "NATURAL",
        "category": "HOUSEHOLD",
        "first_name": "Giulia",
        "last_name": "Bianchi",
        "fiscal_code": factories.valid_personal_code(77),
        "email": "giulia@example.org",
        "address": "Via Verdi 3",
        "municipality": "027038",
        "iban": "IT60 X054 2811 1010 0000 0123 456",
        "valid_from": "2025-01-01",
    }
    body.update(overrides)
    return body


def test_a_referente_registers_a_member_with_their_membership_and_an_audit_entry(referente, world):
    response = referente.post(
        "/api/v1/members", _member_body(community=world.community.pk), format="json"
    )

    assert response.status_code == 201, response.json()
    member = Member.objects.get(pk=response.json()["id"])
    membership = Membership.objects.get(member=member)
    assert membership.community == world.community
    assert membership.iban == "IT60X0542811101000000123456"
    codes = set(
        AuditEntry.objects.filter(target_id__in=[str(member.pk)]).values_list("code", flat=True)
    )
    assert "members.member.registered" in codes
    assert AuditEntry.objects.filter(code="members.membership.created").exists()


def test_a_plain_member_cannot_register_members(personas, world):
    client = client_for(personas["member"])

    response = client.post(
        "/api/v1/members", _member_body(community=world.community.pk), format="json"
    )

    assert_error(response, 403, "permission_denied")


def test_an_invalid_tax_code_is_named(referente, world):
    response = referente.post(
        "/api/v1/members",
        _member_body(community=world.community.pk, fiscal_code="RSSMRA80A01H501X"),
        format="json",
    )

    assert "fiscal_code" in assert_error(response, 400, "invalid")["fields"]


def test_a_member_reads_and_corrects_their_own_details(personas, world):
    holder = world.objects["holder_user"]
    client = client_for(holder)
    member = holder.member

    read = client.get(f"/api/v1/members/{member.pk}")
    changed = client.patch(f"/api/v1/members/{member.pk}", {"phone": "041 123456"}, format="json")

    assert read.json()["fiscal_code"] == member.fiscal_code
    assert changed.status_code == 200
    entry = AuditEntry.objects.get(code="members.member.changed")
    assert entry.changes == {"phone": ["[old]", "[new]"]}


def test_changing_a_plant_is_audited_with_old_and_new_values(referente, world):
    plant = world.objects["plant"]

    response = referente.patch(f"/api/v1/plants/{plant.pk}", {"power_kw": "20.000"}, format="json")

    assert response.status_code == 200
    assert response.json()["power_kw"] == "20.000"
    entry = AuditEntry.objects.get(code="plants.plant.changed")
    assert entry.changes == {"power_kw": ["19.800", "20.000"]}
    assert entry.community == world.community


def test_the_seed_plant_paths_are_aliases(referente, world):
    plant = world.objects["plant"]

    assert referente.get(f"/api/plants/{plant.pk}").json()["id"] == plant.pk
    assert referente.get("/api/plants").json()["count"] == 1


def test_a_plant_owner_must_belong_to_the_plants_community(referente, world, personas):
    outsider_member = personas["outsider"].member
    point = world.objects["connection_point"]

    response = referente.post(
        "/api/v1/plants",
        {
            "connection_point": point.pk,
            "owner": outsider_member.pk,
            "name": "FV",
            "source": "PV",
            "power_kw": "3.000",
            "entry_into_service_date": "2024-05-01",
        },
        format="json",
    )

    assert "owner" in assert_error(response, 400, "invalid")["fields"]


def test_readings_are_written_in_bulk_and_read_back_in_kwh_strings_across_dst(referente, world):
    point = world.objects["connection_point"]
    url = f"/api/v1/connection-points/{point.pk}/readings"
    # 30 March 2025: 02:00 local does not exist; 01:00+01:00 is followed by 03:00+02:00.
    readings = [
        {"hour_start": "2025-03-30T01:00:00+01:00", "injected_kwh": "0", "withdrawn_kwh": "0.250"},
        {"hour_start": "2025-03-30T03:00:00+02:00", "injected_kwh": "1.5", "withdrawn_kwh": "0"},
    ]

    written = referente.post(url, {"source": "DSO", "readings": readings}, format="json")
    listed = referente.get(
        url,
        {"from": "2025-03-30T00:00:00+01:00", "to": "2025-03-31T00:00:00+02:00", "source": "DSO"},
    )

    assert written.json() == {"written": 2}
    rows = listed.json()["results"]
    assert [(r["hour_start"], r["injected_kwh"], r["withdrawn_kwh"]) for r in rows] == [
        ("2025-03-30T01:00:00+01:00", "0.000", "0.250"),
        ("2025-03-30T03:00:00+02:00", "1.500", "0.000"),
    ]
    assert (
        HourlyReading.objects.get(
            connection_point=point,
            source="DSO",
            hour_start=dt.datetime(2025, 3, 30, 1, tzinfo=dt.UTC),
        ).injected_wh
        == 1500
    )
    assert AuditEntry.objects.filter(code="metering.readings.written").exists()
    # Cached dashboard figures of the community are dropped by the write.
    assert ReadingsVersion.objects.get(community=point.configuration.community).version == 1


def test_writing_the_same_hour_again_replaces_it(referente, world):
    point = world.objects["connection_point"]
    url = f"/api/v1/connection-points/{point.pk}/readings"
    reading = {"hour_start": "2025-10-26T02:00:00+01:00", "injected_kwh": "1", "withdrawn_kwh": "0"}
    referente.post(url, {"readings": [reading]}, format="json")

    referente.post(url, {"readings": [{**reading, "injected_kwh": "2"}]}, format="json")

    assert HourlyReading.objects.get(connection_point=point, source="MAN", injected_wh=2000)


def test_energy_with_more_than_three_decimals_is_refused(referente, world):
    point = world.objects["connection_point"]
    reading = {"hour_start": "2025-03-30T00:00:00Z", "injected_kwh": "1.0001", "withdrawn_kwh": "0"}

    response = referente.post(
        f"/api/v1/connection-points/{point.pk}/readings", {"readings": [reading]}, format="json"
    )

    assert "readings[0].injected_kwh" in assert_error(response, 400)["fields"]


def test_an_hour_twice_in_one_body_is_named(referente, world):
    point = world.objects["connection_point"]
    reading = {"hour_start": "2025-03-30T00:00:00Z", "injected_kwh": "1", "withdrawn_kwh": "0"}

    response = referente.post(
        f"/api/v1/connection-points/{point.pk}/readings",
        {"readings": [reading, {**reading, "hour_start": "2025-03-30T01:00:00+01:00"}]},
        format="json",
    )

    assert "readings[1].hour_start" in assert_error(response, 400)["fields"]


def test_the_seed_readings_path_takes_a_managers_session_through_the_metering_service(
    personas, world
):
    plant = world.objects["plant"]
    session = APIClient()
    session.force_login(personas["referente"])
    body = {
        "readings": [
            {
                "start": "2025-03-29T23:00:00Z",
                "end": "2025-03-30T00:00:00Z",
                "injected_wh": 1000,
                "withdrawn_wh": 20,
            }
        ]
    }

    first = session.post(f"/api/plants/{plant.pk}/readings", body, format="json")
    again = session.post(f"/api/plants/{plant.pk}/readings", body, format="json")

    assert first.status_code == 201, first.json()
    assert first.json()["accepted"] >= 1
    assert again.json()["accepted"] == 0


def test_the_incentive_of_a_plant_is_not_computed_yet(referente, world):
    plant = world.objects["plant"]

    body = referente.get(f"/api/incentives/{plant.pk}").json()

    assert body["status"] == "NOT_COMPUTED"
    assert body["amount_eur"] is None
    assert body["power_kw"] == "19.800"


def test_zonal_prices_are_decimal_strings_filtered_by_zone_and_period(referente, zonal_price):
    response = referente.get(
        "/api/v1/zonal-prices",
        {"market_zone": "NORD", "from": "2025-03-30T00:00:00Z", "to": "2025-03-31T00:00:00Z"},
    )

    assert response.json()["results"][0]["price_eur_per_mwh"] == "118.500000"
    assert referente.get("/api/v1/zonal-prices", {"market_zone": "SUD"}).json()["count"] == 0


@pytest.fixture
def fake_broker(monkeypatch):
    calls = []

    @contextlib.contextmanager
    def session(_session):
        yield object()

    from cer.metering import devices

    monkeypatch.setattr(devices, "_session", session)
    for name in ("create_device_account", "set_device_password", "delete_device_account"):
        monkeypatch.setattr(broker, name, lambda name=name, **kw: calls.append(name))
    return calls


def test_a_referente_creates_rotates_and_deletes_a_device_account(referente, world, fake_broker):
    point = world.objects["connection_point"]

    created = referente.post(
        "/api/v1/mqtt/users",
        {"connection_point": point.pk, "name": "shelly-1", "kind": "SHELLY_EM"},
        format="json",
    )
    device_id = created.json()["id"]
    rotated = referente.post(f"/api/v1/mqtt/users/{device_id}/rotate-secret")
    deleted = referente.delete(f"/api/v1/mqtt/users/{device_id}")

    assert created.status_code == 201
    assert len(created.json()["secret"]) >= 24
    assert rotated.json()["secret"] != created.json()["secret"]
    assert deleted.status_code == 204
    assert Device.objects.get(pk=device_id).status == "DELETED"
    assert fake_broker == ["create_device_account", "set_device_password", "delete_device_account"]
    codes = list(
        AuditEntry.objects.filter(code__startswith="metering.device").values_list("code", flat=True)
    )
    assert sorted(codes) == [
        "metering.device.created",
        "metering.device.deleted",
        "metering.device.rotated",
    ]


def test_an_unreachable_broker_is_a_503_and_nothing_is_saved(referente, world, monkeypatch):
    def refuse(self):
        raise broker.BrokerError("down")

    monkeypatch.setattr(broker.DynsecSession, "__enter__", refuse)
    point = world.objects["connection_point"]

    response = referente.post(
        "/api/mqtt/users",
        {"connection_point": point.pk, "name": "shelly-2", "kind": "SHELLY_EM"},
        format="json",
    )

    assert_error(response, 503, "service_unavailable")
    assert not Device.objects.filter(name="shelly-2").exists()


def test_the_audit_log_shows_a_referente_their_communitys_entries_only(personas, world):
    referente = client_for(personas["referente"])
    member = client_for(personas["member"])

    assert referente.get("/api/v1/audit-entries").json()["count"] >= 1
    assert member.get("/api/v1/audit-entries").json()["count"] == 0


def test_reports_list_the_processing_register_of_managed_communities(personas, world):
    body = client_for(personas["referente"]).get("/api/reports").json()

    assert {r["code"] for r in body} == {"processing_register", "audit_log", "community_report"}
    assert client_for(personas["member"]).get("/api/v1/reports").json() == []


def test_a_new_pod_code_through_the_api_keeps_the_old_one_on_record(referente, world):
    from cer.plants.models import PodChange

    point = world.objects["connection_point"]
    old = point.pod
    new = "IT001E" + ("99887766" if not old.endswith("99887766") else "11223344")

    response = referente.patch(f"/api/v1/connection-points/{point.pk}", {"pod": new}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["pod"] == new
    change = PodChange.objects.get(connection_point=point)
    assert (change.old_pod, change.new_pod) == (old, new)
    assert AuditEntry.objects.filter(code="plants.connection_point.pod_changed").exists()
    # The same code again is no change; a second change on the same day is refused, named.
    again = referente.patch(f"/api/v1/connection-points/{point.pk}", {"pod": old}, format="json")
    assert "pod" in assert_error(again, 400)["fields"]
    assert PodChange.objects.filter(connection_point=point).count() == 1
