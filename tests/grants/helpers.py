"""A 45 kW plant in Spinea (26,862 inhabitants in 2011) with a PNRR file ready to fill."""

from __future__ import annotations

import datetime as dt

from cer.core.models import Municipality
from cer.grants import phases, services
from cer.grants.models import GrantApplication
from tests.factories.identifiers import SPINEA, valid_vat_number
from tests.factories.settlement import Small, make_small

NOW = dt.datetime(2025, 8, 1, 8, 0, tzinfo=dt.UTC)
VENEZIA = "027042"  # 261,362 inhabitants in 2011


def small_in_spinea() -> Small:
    small = make_small()
    small.plant.municipality = Municipality.objects.get(pk=SPINEA)
    small.plant.save(update_fields=["municipality"])
    return small


def filled_application(small: Small, *, requested: str = "20000.00") -> GrantApplication:
    """A draft that passes every check: 50,000 EUR claimed on a 45 kW plant (cap 54,000)."""
    application = services.open_application(plant=small.plant, actor=None, now=NOW)
    services.change_application(
        application=application,
        values={
            "works_start_date": dt.date(2025, 9, 1),
            "works_end_date": dt.date(2026, 3, 31),
            "expected_service_date": dt.date(2026, 5, 15),
            "requested_grant_eur": requested,
        },
        actor=None,
        now=NOW,
    )
    for category, description, amount in (
        ("PLANT", "Moduli e inverter", "38000.00"),
        ("CONNECTION", "Allaccio", "4000.00"),
        ("DESIGN", "Progettazione", "8000.00"),
    ):
        services.add_cost_item(
            application=application,
            category=category,
            description=description,
            amount_eur=amount,
            actor=None,
            now=NOW,
        )
    return application


def granted_application(small: Small, *, granted: str = "20000.00") -> GrantApplication:
    application = filled_application(small)
    services.mark_ready(application=application, actor=None, now=NOW)
    services.submit(application=application, gse_reference="PNRR-1", actor=None, now=NOW)
    services.decide(application=application, granted_eur=granted, actor=None, now=NOW)
    return application


def invoice(number: str, amount: str, *, sdi: str | None = None, seed: int = 7) -> dict:
    return {
        "invoice_number": number,
        "sdi_id": sdi or f"SDI-{number}",
        "supplier_vat": valid_vat_number(seed),
        "invoice_date": dt.date(2025, 10, 1),
        "amount_eur": amount,
        "payment_reference": f"CRO-{number}",
        "payment_date": dt.date(2025, 10, 20),
    }


def documented_request(application, kind: str, requested: str, docs: list[tuple]) -> object:
    phase = phases.create_disbursement(
        application=application,
        kind=kind,
        requested_eur=requested,
        actor=None,
        now=NOW,
        tip_contract_date=dt.date(2026, 6, 1) if kind == "BALANCE" else None,
    )
    for item, values in docs:
        phases.add_expense_document(
            request=phase, cost_item=item, values=values, actor=None, now=NOW
        )
    return phase
