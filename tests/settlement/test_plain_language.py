"""The settlement pages in plain words: every engine note explained, figures formatted.

The first test reads every `warnings.append(...)` in cercalc and in the settlement app
(the sentence as written, with each interpolated value as a wildcard) and checks that one
of the examples below stands for it and is explained: a new engine note without an
explanation fails here.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from cer.settlement import explanations
from cer.settlement.services import compute_month
from tests import factories
from tests.factories.settlement import settled_small

ROOT = Path(__file__).resolve().parents[2]

# One realistic note per engine sentence, as cercalc and the settlement app write them.
EXAMPLES = [
    "No value of btau_eur_per_mwh is known for 2025-06-01: the engine used 0.65 EUR/MWh, "
    "valid until 2025-01-01 (end exclusive).",
    "Plant 7: the GSE fee charges the fraction of a kW above 20 kW pro rata, a working "
    "reading (REGULATION.md §7 [U]).",
    "3 hours without a zonal price had no shared energy, so no figure depends on the price there.",
    "From 2025-10-01 the market prices quarter-hours: the hourly zonal price given for those "
    "hours is taken as the mean of the four quarter-hour prices (REGULATION.md §3.5 [U]).",
    "Plants 7, 8 entered service on the same day (2024-05-02): shared energy goes to them in "
    "that order (by id), a project reading (REGULATION.md §3.2 [U]).",
    "Plants without a tariff (7, 8) show a GSE fee of 0.00: DM 106/2024 sets fees for tariff "
    "beneficiaries only (REGULATION.md §7 [U]).",
    "Plant 7 entered service on 2020-03-01, before 2021-12-16: it is treated as an existing "
    "plant, with the valorisation and no tariff (REGULATION.md §3.6 [S]).",
    "Plant 7 has 1200 kW, above 1000 kW: it gets the valorisation but no tariff "
    "(REGULATION.md §3.6 [S]).",
    "Plant 7 has a capital grant of 45 % of its investment, above 40 %: no tariff is due "
    "(REGULATION.md §4.3 [S]).",
    "Plant 7: the Superbonus and obligation power (20 kW) is removed from the tariff in "
    "proportion to power, a working reading (REGULATION.md §3.3 [U]).",
    "Shared energy is attributed to consumers exempt from the factor F in proportion to "
    "their share of the hour's withdrawals, and given first to the plants with a grant, a "
    "working reading (REGULATION.md §4.3 [U], parameter f_exempt_split).",
    "Plant 7 is declared under DM 16/9/2020 with 250 kW, but that regime admits plants up "
    "to 200 kW: its flat tariff is applied as declared; check the regime (REGULATION.md §1 "
    "[V]).",
    "Plant 7 is declared under DM 16/9/2020 but entered service on 2019-01-01, before "
    "2020-03-01, when that regime starts: its flat tariff is applied as declared; check the "
    "regime (REGULATION.md §1 [V], start date [U]).",
    "Plant 7: 12 hour(s) with shared energy before 2024-01-24, when DM 414/2023 entered "
    "into force, get no DM 414 tariff (their shared energy still gets the valorisation) "
    "(REGULATION.md §1 [S]).",
    "Plant 7's tariff ends on 2045-06-01T22:00:00Z, 20 years after its entry into service, "
    "taken as the start of the tariff (REGULATION.md §4.4 [U]).",
    "The case spans the years 2024-2025: the 55 %/45 % rule was applied to the whole period "
    "as one settlement year.",
    "Plant 7 is above the largest PNRR power step: no grant is computed.",
    "Plant 7: the factor F measures the grant on the whole investment (90000 EUR), not on "
    "the eligible cost (60000 EUR), a working reading (REGULATION.md §4.3 [U], parameter "
    "f_grant_share_base).",
    "The avoided-losses term of the valorisation applies the loss factor of each withdrawal "
    "point's voltage level (0.026 for LV points, 0.012 for MV points, the values of ARERA "
    "318/2020) to the shared energy in proportion to the point's withdrawals, at the hourly "
    "zonal price, a working reading (REGULATION.md §6.1 [U], parameters loss_factor and "
    "loss_factor_mv).",
    "High-voltage withdrawal points take the medium-voltage loss factor: ARERA 318/2020 "
    "gives values for LV and MV only (REGULATION.md §6.1 [U]).",
    "Plant 7 declares a PNRR grant, but the grant is for plants in a CER or AUC "
    "configuration, not a AID: the grant and its factor F are applied as declared; check it "
    "(REGULATION.md §8 [S]).",
    "Plant 7 declares a PNRR grant but enters service on 2028-02-01, after 2027-12-31, the "
    "last day DM 127/2025 allows: the grant and its factor F are applied as declared; check "
    "it (REGULATION.md §8 [S]).",
    "Plant 7 declares storage (10 kW, 20.5 kWh): storage counts only through the injections "
    "and withdrawals metered at the point of connection, a working reading (REGULATION.md "
    "§3.4 [U]).",
    "Plant 7 injected 450.000 kWh before its entry into service on 2025-06-16: that energy "
    "is left out of shared energy (REGULATION.md §3.2 [V]).",
    "Existing plants (7, 8) have 40 kW of the configuration's 100 kW, 40 %, above the 30 % a "
    "CER allows (D.Lgs. 199/2021 art. 31 c. 2; REGULATION.md §3.6 [S]).",
    "2 connection point(s) whose holder was not a member in the period were left out: "
    "IT001E00000001, IT001E00000002",
    "Point IT001E00000001 has several plants: its injection is attributed to the oldest one.",
    "Some zonal prices had more than four decimals and were rounded half up.",
    "provisional: estimated or interpolated readings (not measured hour by hour) at 1 "
    "point(s): IT001E00000001 (5 h)",
]

MACHINE_WORDS = re.compile(r"REGULATION\.md|\b[a-z]+_[a-z_]+\b|\[[USVC]\]|\bEUR\b")


def _template(node: ast.expr, module: ast.Module) -> str | None:
    """The sentence a warnings.append argument writes, values as regex wildcards."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(
            re.escape(part.value) if isinstance(part, ast.Constant) else ".*?"
            for part in node.values
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        # A helper that builds the sentence (params._gap_warning): read its return.
        for function in ast.walk(module):
            if isinstance(function, ast.FunctionDef) and function.name == node.func.id:
                returns = [n for n in ast.walk(function) if isinstance(n, ast.Return)]
                return _template(returns[-1].value, module)
    return None


def _engine_sentences() -> list[tuple[str, str]]:
    files = [
        *sorted((ROOT / "cercalc").glob("*.py")),
        *sorted((ROOT / "cer/settlement").glob("*.py")),
    ]
    found = []
    for path in files:
        module = ast.parse(path.read_text())
        for node in ast.walk(module):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("warnings", "notes")
            ):
                template = _template(node.args[0], module)
                assert template is not None, f"{path.name}:{node.lineno}: cannot read the note"
                found.append((f"{path.name}:{node.lineno}", template))
        for node in ast.walk(module):
            # The platform's notes returned as a list (services._not_measured_warnings).
            if isinstance(node, ast.FunctionDef) and node.name.endswith("_warnings"):
                for ret in (n for n in ast.walk(node) if isinstance(n, ast.Return)):
                    if isinstance(ret.value, ast.List):
                        for item in ret.value.elts:
                            template = _template(item, module)
                            if template:
                                found.append((f"{path.name}:{item.lineno}", template))
    return found


def test_every_note_the_engine_can_write_has_an_explanation():
    sentences = _engine_sentences()

    assert len(sentences) >= 28
    for where, template in sentences:
        matching = [e for e in EXAMPLES if re.fullmatch(template, e, re.DOTALL)]
        assert matching, f"{where}: no example (and so no explanation) for {template!r}"
        assert all(explanations.explain(e).known for e in matching), where


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("note", EXAMPLES)
def test_each_note_is_explained_without_machine_words(note, language):
    with translation.override(language):
        explained = explanations.explain(note, plant_names={"7": "Tetto scuola"})

    assert explained.known and explained.code in explanations.CODES
    text = " ".join([explained.meaning, explained.action, explained.act])
    assert explained.meaning and explained.action and explained.act
    assert not MACHINE_WORDS.search(text), text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text
    assert re.search(r"\bDM\b|D\.Lgs\.|ARERA|DM MASE|DM MiSE", explained.act)


def test_figures_and_dates_in_an_explanation_follow_the_language():
    note = EXAMPLES[23]  # 450.000 kWh injected before 2025-06-16

    with translation.override("it"):
        italian = explanations.explain(note, plant_names={"7": "Tetto scuola"}).meaning
    with translation.override("en"):
        english = explanations.explain(note, plant_names={"7": "Tetto scuola"}).meaning

    assert "450,000\u00a0kWh" in italian and "16 giugno 2025" in italian
    assert "450.000\u00a0kWh" in english and "16 June 2025" in english
    assert "«Tetto scuola»" in italian


def test_an_unknown_note_is_kept_as_a_technical_note():
    explained = explanations.explain("Something new the engine says.")

    assert not explained.known
    assert explained.raw == "Something new the engine says."


@pytest.mark.django_db
def test_the_run_page_in_italian_reads_in_kwh_euro_and_words(client):
    small = settled_small()
    client.force_login(
        factories.make_user_with_role(small.community, role="REFERENTE", username="r")
    )
    run = compute_month(
        configuration=small.configuration,
        month=dt.date(2025, 6, 1),
        now=dt.datetime(2025, 7, 3, 8, 0, tzinfo=dt.UTC),
    ).run
    run.warnings = [*run.warnings, EXAMPLES[10], "An unforeseen engine remark."]
    run.save(update_fields=["warnings"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"

    page = client.get(reverse("settlement:run_detail", kwargs={"pk": run.pk}))

    html = page.content.decode()
    body = html[html.index("<main") :] if "<main" in html else html
    assert page.status_code == 200
    assert "kWh" in body and "€" in body
    assert str(run.shared_wh) not in body
    assert "f_exempt_split" not in body and "REGULATION.md" not in body
    assert "giugno 2025" in body
    assert "<summary>" in body and "An unforeseen engine remark." in body
    runs = client.get(reverse("settlement:configuration_runs", kwargs={"pk": run.configuration_id}))
    assert str(run.shared_wh) not in runs.content.decode()
    assert "giugno 2025" in runs.content.decode()
