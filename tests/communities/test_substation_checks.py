"""Primary-substation codes (format and the distributor's list) and market zones by region."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.communities.models import Configuration, PrimarySubstation
from cer.communities.substation_codes import validate_substation_code
from cer.communities.substation_list import SubstationListInvalid, import_substation_list
from cer.communities.zones import ZONES_BY_REGION
from cer.core.choices import Region
from cer.plants.models import EligibilityStatus
from tests import factories

NOW = dt.datetime(2025, 3, 30, 1, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("code", ["AC001E00934", "ac001e00934", "AC 001 E 00934", "BX123Z45678"])
def test_a_code_of_the_gse_maps_format_is_accepted(code):
    validate_substation_code(code)


@pytest.mark.parametrize(
    "code", ["XYZ123", "AC001E0093", "AC001E009345", "1C001E00934", "AC0O1E00934"]
)
def test_a_code_not_of_the_gse_maps_format_is_refused(code):
    with pytest.raises(ValidationError) as error:
        validate_substation_code(code)

    assert error.value.code == "substation_format"


def test_every_region_lies_in_a_market_zone():
    assert set(ZONES_BY_REGION) == set(Region.values)


def configuration(community, **changes):
    fields = {
        "community": community,
        "name": "Cabina Bari",
        "primary_substation": "AC001E55501",
        "market_zone": "SUD",
        "region": "Puglia",
    }
    fields.update(changes)
    return Configuration(**fields)


@pytest.mark.django_db
def test_a_configuration_names_the_field_of_a_bad_substation_code():
    community = factories.make_community()

    with pytest.raises(ValidationError) as error:
        configuration(community, primary_substation="XYZ123").full_clean()

    assert set(error.value.message_dict) == {"primary_substation"}


@pytest.mark.django_db
def test_puglia_in_the_northern_zone_is_refused_on_the_market_zone():
    community = factories.make_community()

    with pytest.raises(ValidationError) as error, translation.override("en"):
        configuration(community, market_zone="NORD").full_clean()
    with translation.override("en"):  # the message is read in the language it was made in
        messages = error.value.message_dict

    assert set(messages) == {"market_zone"}
    assert "Puglia lies in market zone South, not North" in messages["market_zone"][0]


@pytest.mark.django_db
def test_molise_belongs_to_the_south_since_2021():
    community = factories.make_community()

    configuration(community, region="Molise", market_zone="SUD").full_clean()
    with pytest.raises(ValidationError):
        configuration(community, region="Molise", market_zone="CSUD").full_clean()


@pytest.mark.django_db
def test_a_founding_date_in_the_future_is_refused_on_its_field():
    community = factories.make_community()
    community.founding_date = dt.date(2030, 1, 1)

    with pytest.raises(ValidationError) as error:
        community.full_clean()

    assert set(error.value.message_dict) == {"founding_date"}


# --- the distributor's list ------------------------------------------------------------------

GOOD_LIST = (
    "code;name;municipalities\nAC001E55501;CP Spinea;Spinea (VE) | 027024\nAC001E55502;CP Mirano;\n"
)


@pytest.mark.django_db
def test_importing_the_list_stores_codes_names_and_municipalities():
    community = factories.make_community()

    outcome = import_substation_list(community=community, text=GOOD_LIST, actor=None, now=NOW)

    stored = {s.code: s for s in PrimarySubstation.objects.filter(community=community)}
    assert set(stored) == {"AC001E55501", "AC001E55502"}
    assert {m.pk for m in stored["AC001E55501"].municipalities.all()} == {"027038", "027024"}
    assert not stored["AC001E55502"].municipalities.exists()
    # The factory's configuration uses another code: the referente is told.
    assert [c.pk for c in outcome.unlisted_configurations] == [community.configurations.get().pk]
    assert AuditEntry.objects.filter(code="communities.substation_list.imported").exists()


@pytest.mark.django_db
def test_a_list_with_bad_lines_names_each_line_and_keeps_the_old_list():
    community = factories.make_community()
    import_substation_list(community=community, text=GOOD_LIST, actor=None, now=NOW)
    bad = (
        "code,name,municipalities\n"
        "AC001E55503,CP Venezia,Venezia\n"
        "XYZ123,CP Errata,\n"
        "AC001E55503,CP Doppia,\n"
        "AC001E55504,,Atlantide\n"
    )

    with pytest.raises(SubstationListInvalid) as error, translation.override("en"):
        import_substation_list(community=community, text=bad, actor=None, now=NOW)

    lines = [problem.line for problem in error.value.problems]
    assert lines == [3, 4, 5, 5]
    assert "XYZ123" in error.value.problems[0].message
    codes = set(
        PrimarySubstation.objects.filter(community=community).values_list("code", flat=True)
    )
    assert codes == {"AC001E55501", "AC001E55502"}


@pytest.mark.django_db
def test_a_list_without_the_code_column_is_refused_on_the_header():
    community = factories.make_community()

    with pytest.raises(SubstationListInvalid) as error:
        import_substation_list(community=community, text="cabina;nome\nX;Y\n", actor=None, now=NOW)

    assert error.value.problems[0].line == 1


@pytest.mark.django_db
def test_once_a_list_is_imported_a_configuration_code_must_be_in_it():
    community = factories.make_community()
    import_substation_list(community=community, text=GOOD_LIST, actor=None, now=NOW)

    configuration(community, region="Veneto", market_zone="NORD").full_clean()
    with pytest.raises(ValidationError) as error:
        configuration(
            community, primary_substation="AC001E55599", region="Veneto", market_zone="NORD"
        ).full_clean()

    assert set(error.value.message_dict) == {"primary_substation"}


def _upload(client, community, text, name="cabine.csv"):
    return client.post(
        reverse("substations", args=[community.pk]),
        {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")},
    )


@pytest.mark.django_db
def test_the_referente_imports_the_list_through_the_page(client, referente, community):
    client.force_login(referente)

    response = _upload(client, community, GOOD_LIST)
    page = client.get(reverse("substations", args=[community.pk]))

    assert response.status_code == 302
    assert PrimarySubstation.objects.filter(community=community).count() == 2
    assert "CP Spinea" in page.content.decode()
    assert "Mirano (VE)" in page.content.decode()


@pytest.mark.django_db
def test_a_bad_file_on_the_page_lists_the_lines_and_stores_nothing(client, referente, community):
    client.force_login(referente)

    with translation.override("en"):
        response = _upload(client, community, "code;name\nXYZ123;CP\nAC001E55501;\n")

    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 2:" in page and "Line 3:" in page
    assert not PrimarySubstation.objects.filter(community=community).exists()


@pytest.mark.django_db
def test_a_plain_member_may_not_import_the_list(client, member_user, community):
    client.force_login(member_user)

    response = _upload(client, community, GOOD_LIST)

    assert response.status_code == 403
    assert not PrimarySubstation.objects.exists()


@pytest.mark.django_db
def test_importing_the_area_rechecks_the_plants(community):
    holder = factories.make_member()
    point = factories.make_connection_point(community, holder, has_injection=True)
    code = community.configurations.get().primary_substation
    plant = factories.make_plant(
        point, primary_substation=code, municipality_id="027038", region="Veneto"
    )
    text = f"code;name;municipalities\n{code};CP Spinea;Spinea (VE)\n"

    import_substation_list(community=community, text=text, actor=None, now=NOW)

    plant.refresh_from_db()
    assert plant.eligibility_checked_at == NOW
    area = next(r for r in plant.eligibility_results if r["rule"] == "AREA")
    assert area["outcome"] == "PASS"
    assert plant.eligibility_status == EligibilityStatus.ELIGIBLE
