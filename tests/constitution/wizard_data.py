"""What a person types in each step of the constitution wizard, as form data."""

from __future__ import annotations

from stdnum.it import codicefiscale

from tests.factories import valid_pod, valid_vat_number


def founder_code(seed: int) -> str:
    """A codice fiscale unlike the factories' ones (a woman born in Rome in August 1985)."""
    body = f"VRDNNA85M{41 + seed % 30:02d}H501"
    return body + codicefiscale.calc_check_digit(body)


def kind_step(**overrides: str) -> dict[str, str]:
    data = {
        "c-kind": "CER",
        "c-legal_form": "THIRD_SECTOR",
        "c-name": "CER Sole di Spinea",
        "c-fiscal_code": valid_vat_number(4_400_001),
        "c-vat_number": "",
        "c-seat_address": "Piazza Municipio 1",
        "c-seat_municipality": "Spinea",
        "c-founding_date": "2025-03-30",
        "c-pec": "cer.spinea@pec.example.org",
    }
    data.update({f"c-{key}": value for key, value in overrides.items()})
    return data


def _member_fields(prefix: str, *, seed: int, **overrides: str) -> dict[str, str]:
    fields = {
        "kind": "NATURAL",
        "category": "HOUSEHOLD",
        "first_name": "Anna",
        "last_name": f"Verdi {seed}",
        "company_name": "",
        "fiscal_code": founder_code(seed),
        "vat_number": "",
        "email": f"fondatore{seed}@example.org",
        "pec": "",
        "phone": "",
        "address": "Via Roma 3",
        "municipality": "027038",
        "iban": "IT60X0542811101000000123456",
    }
    fields.update(overrides)
    return {f"{prefix}-{key}": value for key, value in fields.items()}


def members_step(*, me: bool = True, others: int = 1, **me_overrides: str) -> dict[str, str]:
    data: dict[str, str] = {}
    if me:
        data.update(_member_fields("me", seed=1, **me_overrides))
    data.update({"others-TOTAL_FORMS": str(others), "others-INITIAL_FORMS": "0"})
    for index in range(others):
        data.update(_member_fields(f"others-{index}", seed=2 + index))
    return data


def configurations_step() -> dict[str, str]:
    return {
        "cfg-TOTAL_FORMS": "1",
        "cfg-INITIAL_FORMS": "0",
        "cfg-0-name": "Cabina Spinea",
        "cfg-0-primary_substation": "AC001E00123",
        "cfg-0-market_zone": "NORD",
        "cfg-0-region": "Veneto",
    }


def points_step(*, plant_power_kw: str = "19.8", entry: str = "2024-11-05") -> dict[str, str]:
    return {
        "pt-TOTAL_FORMS": "2",
        "pt-INITIAL_FORMS": "0",
        "pt-0-pod": valid_pod(77_000_001),
        "pt-0-holder": founder_code(1),
        "pt-0-primary_substation": "AC001E00123",
        "pt-0-contracted_power_kw": "6",
        "pt-0-has_withdrawal": "on",
        "pt-0-has_injection": "on",
        "pt-0-plant_name": "FV tetto scuola",
        "pt-0-plant_source": "PV",
        "pt-0-plant_power_kw": plant_power_kw,
        "pt-0-plant_entry_into_service_date": entry,
        "pt-0-plant_municipality": "Spinea (VE)",
        "pt-1-pod": valid_pod(77_000_002),
        "pt-1-holder": founder_code(2),
        "pt-1-primary_substation": "AC001E00123",
        "pt-1-contracted_power_kw": "3",
        "pt-1-has_withdrawal": "on",
    }


def distribution_step() -> dict[str, str]:
    return {
        "d-model": "WITHDRAWAL_SHARE",
        "d-producers_pct": "20",
        "d-consumers_pct": "70",
        "d-community_fund_pct": "10",
    }


def review_step() -> dict[str, str]:
    return {"r-draft_statute": "on", "r-draft_regulation": "on", "r-confirm": "on"}
