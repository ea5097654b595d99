"""The managers' plant records, through the web: list, export, corrections, POD changes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cer.audit.models import AuditEntry
from cer.members.models import Membership
from cer.plants import services
from cer.plants.models import EligibilityStatus, Plant, PodChange
from tests import factories
from tests.factories.communities import import_area

pytestmark = pytest.mark.django_db


@pytest.fixture
def point(community):
    holder = factories.make_member(first_name="Giulia", last_name="Bianchi")
    Membership.objects.create(
        member=holder, community=community, valid_from=dt.date(2024, 9, 12), kind="PROSUMER"
    )
    return factories.make_connection_point(community, holder, has_injection=True)


@pytest.fixture
def plants(community, point):
    """Two plants behind the point, both checked: a large PV roof and a small hydro."""
    substation = point.configuration.primary_substation
    roof = factories.make_plant(
        point, name="FV palestra", power_kw=Decimal("60"), primary_substation=substation
    )
    hydro = factories.make_plant(
        point,
        name="Mini idro",
        source="HYDRO",
        power_kw=Decimal("4.5"),
        primary_substation=substation,
        entry_into_service_date=dt.date(2025, 2, 1),
    )
    services.check_community_plants(community=community, actor=None, now=timezone.now())
    return {"roof": roof, "hydro": hydro}


def _names(response) -> list[str]:
    return [row.plant.name for row in response.context["plants"]]


def test_a_referente_searches_filters_and_sorts_plants(client, referente, community, plants):
    client.force_login(referente)
    url = reverse("plants:plant_list", args=[community.pk])

    by_owner = client.get(url, {"q": "bianchi"})
    by_source = client.get(url, {"source": "HYDRO"})
    largest = client.get(url, {"sort": "-power"})
    newest = client.get(url, {"sort": "-entry"})
    none = client.get(url, {"status": "NOT_ELIGIBLE"})

    assert by_owner.status_code == 200
    assert sorted(_names(by_owner)) == ["FV palestra", "Mini idro"]
    assert _names(by_source) == ["Mini idro"]
    assert _names(largest) == ["FV palestra", "Mini idro"]
    assert _names(newest) == ["Mini idro", "FV palestra"]
    assert _names(none) == []
    assert reverse("plants:edit", args=[plants["roof"].pk]) in by_owner.content.decode()


def test_the_plant_csv_is_for_italian_excel(client, referente, community, plants):
    client.force_login(referente)

    response = client.get(
        reverse("plants:plant_list", args=[community.pk]), {"source": "HYDRO", "export": "csv"}
    )

    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Impianto"
    (hydro,) = rows[1:]
    assert hydro[0] == "Mini idro"
    assert hydro[5] == "4,5"
    assert hydro[6] == "1 febbraio 2025"


def test_the_plant_xlsx_holds_numbers_and_dates(client, referente, community, plants):
    client.force_login(referente)

    response = client.get(
        reverse("plants:plant_list", args=[community.pk]), {"sort": "power", "export": "xlsx"}
    )

    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["Mini idro", "FV palestra"]
    assert rows[1][5] == 4.5
    assert rows[1][6].date() == dt.date(2025, 2, 1)


def test_a_plain_member_gets_neutral_labels_and_no_export(client, member_user, community, plants):
    client.force_login(member_user)

    response = client.get(reverse("plants:plant_list", args=[community.pk]), {"export": "csv"})

    page = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "FV palestra" not in page and "Giulia Bianchi" not in page
    assert "CSV (Excel)" not in page
    assert len(response.context["plants"]) == 2


def _edit_data(plant: Plant, **changes):
    return {
        "name": plant.name,
        "source": plant.source,
        "power_kw": str(plant.power_kw),
        "entry_into_service_date": plant.entry_into_service_date.isoformat(),
        "regime": plant.regime,
        "primary_substation": plant.primary_substation,
        "region": plant.region,
        "superbonus_kw": "0",
        "obligation_kw": "0",
        "capital_grant_pct": "0",
        "investment_eur": "",
        "storage_power_kw": "0",
        "storage_capacity_kwh": "0",
        "censimp_code": "",
        "cadastral_sheet": "",
        "cadastral_parcel": "",
        "cadastral_subunit": "",
        **changes,
    }


def test_correcting_a_mistyped_substation_code_reruns_the_checks(
    client, referente, community, point
):
    plant = factories.make_plant(point, name="FV scuola", primary_substation="AC001E99999")
    import_area(community)
    services.check_community_plants(community=community, actor=None, now=timezone.now())
    plant.refresh_from_db()
    assert plant.eligibility_status != EligibilityStatus.ELIGIBLE
    client.force_login(referente)
    url = reverse("plants:edit", args=[plant.pk])

    page = client.get(url)
    response = client.post(
        url,
        _edit_data(
            plant,
            primary_substation=point.configuration.primary_substation.lower(),
            municipality="Spinea (VE)",
            storage_capacity_kwh="10",
            capital_grant_pct="40",
        ),
    )

    assert page.status_code == 200
    assert response.status_code == 302
    plant.refresh_from_db()
    assert plant.primary_substation == point.configuration.primary_substation
    assert plant.storage_capacity_kwh == Decimal("10")
    assert plant.capital_grant_pct == Decimal("40")
    assert plant.eligibility_status == EligibilityStatus.ELIGIBLE
    assert plant.region == "Veneto"
    entry = AuditEntry.objects.get(code="plants.plant.changed")
    assert entry.changes["primary_substation"] == [
        "AC001E99999",
        point.configuration.primary_substation,
    ]
    assert AuditEntry.objects.filter(code="plants.plant.checked", target_id=str(plant.pk)).exists()


def test_a_bad_value_names_the_field_and_saves_nothing(client, referente, plants):
    roof = plants["roof"]
    client.force_login(referente)

    response = client.post(
        reverse("plants:edit", args=[roof.pk]), _edit_data(roof, power_kw="-3", name="Altro")
    )

    assert response.status_code == 400
    assert "power_kw" in response.context["form"].errors
    roof.refresh_from_db()
    assert roof.name == "FV palestra"
    assert not AuditEntry.objects.filter(code="plants.plant.changed").exists()


def test_a_plain_member_and_another_community_cannot_edit(client, member_user, outsider, plants):
    roof = plants["roof"]

    for user in (member_user, outsider):
        client.force_login(user)
        edit = client.post(reverse("plants:edit", args=[roof.pk]), _edit_data(roof, name="X"))
        pod = client.post(
            reverse("plants:pod_change", args=[roof.connection_point.pk]),
            {"new_pod": factories.valid_pod(777), "valid_from": "2025-07-01"},
        )
        assert edit.status_code == 403
        assert pod.status_code == 403
    roof.refresh_from_db()
    assert roof.name == "FV palestra"


def test_a_pod_change_keeps_the_old_code_with_its_date(client, referente, point):
    old = point.pod
    new = factories.valid_pod(4242)
    client.force_login(referente)
    url = reverse("plants:pod_change", args=[point.pk])

    response = client.post(
        url, {"new_pod": new.lower(), "valid_from": "2025-07-01", "reason": "Nuovo contatore"}
    )
    earlier = client.post(url, {"new_pod": factories.valid_pod(4243), "valid_from": "2025-06-01"})
    page = client.get(url).content.decode()

    assert response.status_code == 302
    point.refresh_from_db()
    assert point.pod == new
    change = PodChange.objects.get(connection_point=point)
    assert (change.old_pod, change.new_pod, change.valid_from) == (old, new, dt.date(2025, 7, 1))
    assert earlier.status_code == 400
    assert "valid_from" in earlier.context["form"].errors
    assert old in page and "1 luglio 2025" in page
    entry = AuditEntry.objects.get(code="plants.connection_point.pod_changed")
    assert entry.changes["pod"] == [old, new]


def test_a_pod_taken_elsewhere_or_malformed_is_refused_by_field(client, referente, community):
    first = factories.make_connection_point(community, factories.make_member())
    second = factories.make_connection_point(community, factories.make_member())
    client.force_login(referente)
    url = reverse("plants:pod_change", args=[second.pk])

    taken = client.post(url, {"new_pod": first.pod, "valid_from": "2025-07-01"})
    malformed = client.post(url, {"new_pod": "IT001", "valid_from": "2025-07-01"})

    assert taken.status_code == 400
    assert "new_pod" in taken.context["form"].errors
    assert malformed.status_code == 400
    assert "new_pod" in malformed.context["form"].errors
    assert not PodChange.objects.exists()


def test_the_community_page_links_the_records_instead_of_long_tables(
    client, referente, community, plants
):
    client.force_login(referente)

    page = client.get(reverse("community_detail", args=[community.pk])).content.decode()

    assert reverse("members:member_list", args=[community.pk]) in page
    assert reverse("plants:plant_list", args=[community.pk]) in page
    assert "FV palestra" not in page
