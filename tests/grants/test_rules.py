"""Each bad input of the PNRR file is refused with the field and the rule that refuse it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from cer.audit.models import AuditEntry
from cer.core.models import Municipality
from cer.grants import checks, phases, services
from cer.grants.models import ApplicationState, PhaseState
from cercalc import pnrr
from cercalc.params import default_parameters
from tests.grants.helpers import (
    NOW,
    VENEZIA,
    documented_request,
    filled_application,
    granted_application,
    invoice,
    small_in_spinea,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The refusals are read in English here; the pages test the Italian ones."""
    with translation.override("en"):
        yield


def _refusal(application) -> dict[str, list[str]]:
    with pytest.raises(services.GrantError) as caught:
        services.mark_ready(application=application, actor=None, now=NOW)
    application.refresh_from_db()
    assert application.state == ApplicationState.DRAFT
    return caught.value.errors


def test_a_complete_file_becomes_ready_and_the_step_is_audited():
    application = filled_application(small_in_spinea())

    services.mark_ready(application=application, actor=None, now=NOW)

    application.refresh_from_db()
    assert application.state == ApplicationState.READY
    assert AuditEntry.objects.filter(code="grants.application.ready").count() == 1


def test_cost_items_above_the_cap_of_the_power_band_are_refused_with_the_rule():
    application = filled_application(small_in_spinea())
    services.add_cost_item(
        application=application,
        category="STORAGE",
        description="Batteria",
        amount_eur="4000.01",
        actor=None,
        now=NOW,
    )

    errors = _refusal(application)

    # 45 kW x 1,200 EUR/kW = 54,000 EUR; 54,000.01 claimed.
    assert "cost_items" in errors
    assert "per kW" in errors["cost_items"][0]
    assert "54,000.00" in errors["cost_items"][0]


def test_a_start_of_works_after_the_end_of_works_deadline_is_refused():
    application = filled_application(small_in_spinea())
    services.change_application(
        application=application,
        values={"works_start_date": dt.date(2026, 7, 1)},
        actor=None,
        now=NOW,
    )

    errors = _refusal(application)

    assert "works_start_date" in errors
    assert "DM 127/2025" in errors["works_start_date"][0]


def test_works_ending_after_30_june_2026_and_a_late_entry_into_service_are_refused():
    application = filled_application(small_in_spinea())
    services.change_application(
        application=application,
        values={
            "works_end_date": dt.date(2026, 7, 1),
            "expected_service_date": dt.date(2028, 1, 2),
        },
        actor=None,
        now=NOW,
    )

    errors = _refusal(application)

    assert "works_end_date" in errors
    assert "expected_service_date" in errors


def test_a_municipality_above_the_population_limit_is_refused_and_says_which_figure():
    application = filled_application(small_in_spinea())
    services.change_application(
        application=application,
        values={"municipality": Municipality.objects.get(pk=VENEZIA)},
        actor=None,
        now=NOW,
    )

    errors = _refusal(application)

    assert "municipality" in errors
    assert "50,000" in errors["municipality"][0]
    assert "2011" in errors["municipality"][0]


def test_the_recorded_current_population_is_used_instead_of_the_2011_figure():
    application = filled_application(small_in_spinea())
    services.change_application(
        application=application,
        values={
            "current_population": 50_000,
            "population_source": "ISTAT, popolazione residente",
            "population_date": dt.date(2025, 1, 1),
        },
        actor=None,
        now=NOW,
    )

    errors = _refusal(application)

    assert "official figure recorded" in errors["municipality"][0]


def test_a_remote_self_consumer_is_not_eligible():
    small = small_in_spinea()
    small.community.kind = "AID"
    small.community.save(update_fields=["kind"])
    application = filled_application(small)

    errors = _refusal(application)

    assert "plant" in errors


def test_a_requested_grant_above_cercalcs_maximum_is_refused():
    application = filled_application(small_in_spinea(), requested="20000.01")

    errors = _refusal(application)

    assert "requested_grant_eur" in errors


@pytest.mark.parametrize("amount", ["100.001", "0.005"])
def test_amounts_with_more_than_two_decimals_are_refused_and_nothing_is_stored(amount):
    application = filled_application(small_in_spinea())

    with pytest.raises(services.GrantError) as caught:
        services.add_cost_item(
            application=application,
            category="WORKS",
            description="Opere",
            amount_eur=amount,
            actor=None,
            now=NOW,
        )
    with pytest.raises(services.GrantError):
        services.change_application(
            application=application,
            values={"requested_grant_eur": amount},
            actor=None,
            now=NOW,
        )

    assert "two decimals" in caught.value.errors["amount_eur"][0]
    assert application.cost_items.count() == 3
    application.refresh_from_db()
    assert application.requested_grant_eur == Decimal("20000.00")


def test_the_maximum_grant_is_cercalcs():
    application = filled_application(small_in_spinea())
    parameters = default_parameters()
    day = NOW.date()

    expected = pnrr.capital_grant(
        power_kw=Decimal("45"),
        investment_eur=Decimal("50000.00"),
        cost_caps_eur_per_kw=parameters.value_on("pnrr_cost_cap_eur_per_kw_steps", day, []),
        grant_share=parameters.value_on("pnrr_grant_share", day, []),
        advance_share=parameters.value_on("pnrr_advance_share", day, []),
    )

    assert checks.maximum_grant(application, today=day) == expected
    assert expected.grant_eur == Decimal("20000.0000")
    assert expected.advance_eur == Decimal("6000.000000")


def test_a_grant_above_the_maximum_is_refused_at_the_decision():
    application = filled_application(small_in_spinea())
    services.mark_ready(application=application, actor=None, now=NOW)
    services.submit(application=application, gse_reference="X", actor=None, now=NOW)

    with pytest.raises(services.GrantError) as caught:
        services.decide(application=application, granted_eur="20000.01", actor=None, now=NOW)

    assert "granted_eur" in caught.value.errors
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED


def test_an_advance_above_30_percent_of_the_grant_is_refused():
    application = granted_application(small_in_spinea())
    advance = phases.create_disbursement(
        application=application, kind="ADVANCE", requested_eur="6000.01", actor=None, now=NOW
    )

    with pytest.raises(services.GrantError) as caught:
        phases.send_disbursement(request=advance, actor=None, now=NOW)

    assert "30" in caught.value.errors["requested_eur"][0]
    advance.refresh_from_db()
    assert advance.state == PhaseState.DRAFT


def test_phases_asking_more_than_the_grant_are_refused():
    application = granted_application(small_in_spinea())
    phases.create_disbursement(
        application=application, kind="ADVANCE", requested_eur="6000.00", actor=None, now=NOW
    )

    with pytest.raises(services.GrantError) as caught:
        phases.create_disbursement(
            application=application,
            kind="INTERMEDIATE",
            requested_eur="14000.01",
            actor=None,
            now=NOW,
        )

    assert "more than the grant" in caught.value.errors["requested_eur"][0]


def test_an_instalment_above_the_grant_share_of_its_documents_is_refused():
    small = small_in_spinea()
    application = granted_application(small)
    modules = application.cost_items.get(category="PLANT")
    phase = documented_request(
        application, "INTERMEDIATE", "4000.01", [(modules, invoice("F1", "10000.00"))]
    )
    phase.progress_report.save("sal.pdf", _file())

    with pytest.raises(services.GrantError) as caught:
        phases.send_disbursement(request=phase, actor=None, now=NOW)

    assert "documented" in caught.value.errors["requested_eur"][0]


def test_the_same_invoice_in_two_requests_is_refused_naming_the_other_request():
    application = granted_application(small_in_spinea())
    modules = application.cost_items.get(category="PLANT")
    first = documented_request(
        application, "INTERMEDIATE", "4000.00", [(modules, invoice("F1", "10000.00"))]
    )
    second = phases.create_disbursement(
        application=application, kind="INTERMEDIATE", requested_eur="100.00", actor=None, now=NOW
    )

    with pytest.raises(services.GrantError) as by_sdi:
        phases.add_expense_document(
            request=second, cost_item=modules, values=invoice("F1", "1.00"), actor=None, now=NOW
        )
    with pytest.raises(services.GrantError) as by_number:
        phases.add_expense_document(
            request=second,
            cost_item=modules,
            values=invoice("F1", "1.00", sdi="OTHER-SDI"),
            actor=None,
            now=NOW,
        )

    assert str(first) in by_sdi.value.errors["sdi_id"][0]
    assert str(first) in by_number.value.errors["sdi_id"][0]
    assert second.documents.count() == 0


def test_a_cost_item_documented_beyond_its_amount_is_refused():
    application = granted_application(small_in_spinea())
    connection = application.cost_items.get(category="CONNECTION")
    documented_request(
        application, "INTERMEDIATE", "1000.00", [(connection, invoice("A1", "3000.00"))]
    )
    second = phases.create_disbursement(
        application=application, kind="INTERMEDIATE", requested_eur="100.00", actor=None, now=NOW
    )

    with pytest.raises(services.GrantError) as caught:
        phases.add_expense_document(
            request=second,
            cost_item=connection,
            values=invoice("A2", "1000.01"),
            actor=None,
            now=NOW,
        )

    assert "claimed once" in caught.value.errors["amount_eur"][0]


def test_another_grant_on_a_claimed_cost_item_is_refused():
    small = small_in_spinea()
    application = filled_application(small)
    modules = application.cost_items.get(category="PLANT")

    with pytest.raises(services.GrantError) as caught:
        services.add_other_grant(
            plant=small.plant,
            source="Regione Veneto, bando FESR",
            amount_eur="5000.00",
            grant_date=dt.date(2025, 5, 1),
            cost_items=[modules],
            actor=None,
            now=NOW,
        )

    assert "funded twice" in caught.value.errors["cost_items"][0]
    assert small.plant.other_grants.count() == 0


def test_another_grant_on_an_unclaimed_cost_is_recorded_and_a_second_one_refused():
    small = small_in_spinea()
    application = filled_application(small)
    roof = services.add_cost_item(
        application=application,
        category="WORKS",
        description="Rifacimento tetto",
        amount_eur="9000.00",
        claimed=False,
        actor=None,
        now=NOW,
    )
    services.add_other_grant(
        plant=small.plant,
        source="Regione Veneto",
        amount_eur="3000.00",
        grant_date=dt.date(2025, 5, 1),
        cost_items=[roof],
        actor=None,
        now=NOW,
    )

    with pytest.raises(services.GrantError) as caught:
        services.add_other_grant(
            plant=small.plant,
            source="Comune",
            amount_eur="1000.00",
            grant_date=dt.date(2025, 6, 1),
            cost_items=[roof],
            actor=None,
            now=NOW,
        )

    assert "Regione Veneto" in caught.value.errors["cost_items"][0]
    services.mark_ready(application=application, actor=None, now=NOW)


def _file():
    from django.core.files.base import ContentFile

    return ContentFile(b"%PDF-1.4 relazione SAL", name="sal.pdf")
