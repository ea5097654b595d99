"""The submission bundle of a PNRR file: a ZIP with the data as JSON, a PDF summary and the
attached documents.

The JSON carries the data the GSE portal asks (subject, plant, municipality with the figure
used and its source, dates, cost items, requested grant) with cercalc's maximum and the
checks; amounts as decimal strings, dates ISO. The summary is laid out by the documents
app's drafting tools (cer.documents.drafting), in Italian like every act of the community.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from cer.core import formatting
from cer.documents.drafting import Block, to_pdf
from cer.grants import checks
from cer.grants.models import GrantApplication
from cercalc.money import round_eur


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def application_data(application: GrantApplication, *, today: dt.date) -> dict[str, Any]:
    """Return the file's data as plain JSON values."""
    plant = application.plant
    community = application.community
    maximum = checks.maximum_grant(application, today=today)
    municipality = application.municipality
    return {
        "format": "cercollettiva-pnrr-application/1",
        "state": application.state,
        "applicant": {
            "kind": application.applicant,
            "name": community.name if application.applicant == "COMMUNITY" else str(plant.owner),
            "community": community.name,
            "community_fiscal_code": community.fiscal_code,
            "configuration_type": community.kind,
        },
        "plant": {
            "name": plant.name,
            "source": plant.source,
            "power_kw": str(plant.power_kw),
            "pod": plant.connection_point.pod,
            "censimp_code": plant.censimp_code,
            "primary_substation": plant.primary_substation,
        },
        "municipality": {
            "istat_code": municipality.istat_code if municipality else None,
            "name": municipality.name if municipality else None,
            "population_census_2011": application.census_population,
            "population_current": application.current_population,
            "population_current_source": application.population_source or None,
            "population_current_date": _day(application.population_date),
            "population_checked": application.checked_population,
        },
        "works_start_date": _day(application.works_start_date),
        "works_end_date": _day(application.works_end_date),
        "expected_service_date": _day(application.expected_service_date),
        "cost_items": [
            {
                "category": item.category,
                "description": item.description,
                "amount_eur": str(item.amount_eur),
                "claimed": item.claimed,
            }
            for item in application.cost_items.all()
        ],
        "claimed_cost_eur": str(application.claimed_eur),
        "eligible_cost_eur": _text(round_eur(maximum.eligible_cost_eur) if maximum else None),
        "maximum_grant_eur": _text(round_eur(maximum.grant_eur) if maximum else None),
        "requested_grant_eur": _text(application.requested_grant_eur),
        "checks": [
            {"field": c.field, "rule": c.rule, "passed": c.passed, "message": c.message}
            for c in checks.check_application(application, today=today)
        ],
    }


def _summary_blocks(application: GrantApplication, today: dt.date) -> list[Block]:
    plant = application.plant
    maximum = checks.maximum_grant(application, today=today)
    blocks = [
        Block("title", _("PNRR capital grant application — %(plant)s") % {"plant": plant.name}),
        Block("paragraph", application.community.name),
        Block("section", _("Plant")),
        Block(
            "paragraph",
            _("%(name)s, %(source)s, %(power)s, POD %(pod)s.")
            % {
                "name": plant.name,
                "source": plant.get_source_display(),
                "power": formatting.kw(plant.power_kw),
                "pod": plant.connection_point.pod,
            },
        ),
    ]
    if application.municipality_id:
        which = (
            _("current official figure, %(source)s, %(day)s")
            % {
                "source": application.population_source,
                "day": formatting.day(application.population_date)
                if application.population_date
                else "—",
            }
            if application.current_population is not None
            else _("ISTAT 2011 census")
        )
        blocks.append(
            Block(
                "paragraph",
                _("Municipality: %(name)s, %(population)s inhabitants (%(which)s).")
                % {
                    "name": str(application.municipality),
                    "population": formatting.number(application.checked_population or 0),
                    "which": which,
                },
            )
        )
    blocks.append(Block("section", _("Dates")))
    for label, value in (
        (_("Start of works"), application.works_start_date),
        (_("End of works"), application.works_end_date),
        (_("Expected entry into service"), application.expected_service_date),
    ):
        blocks.append(Block("item", f"{label}: {formatting.day(value) if value else '—'}"))
    blocks.append(Block("section", _("Cost items")))
    for item in application.cost_items.all():
        claimed = "" if item.claimed else " " + _("(not claimed)")
        blocks.append(
            Block(
                "item",
                f"{item.get_category_display()} — {item.description}: "
                f"{formatting.eur(item.amount_eur)}{claimed}",
            )
        )
    blocks.append(Block("section", _("Grant")))
    if maximum is not None:
        blocks.append(
            Block(
                "paragraph",
                _("Eligible cost %(eligible)s; maximum grant %(maximum)s (cercalc).")
                % {
                    "eligible": formatting.eur(maximum.eligible_cost_eur),
                    "maximum": formatting.eur(maximum.grant_eur),
                },
            )
        )
    requested = application.requested_grant_eur
    blocks.append(
        Block(
            "paragraph",
            _("Requested grant: %(requested)s.")
            % {"requested": formatting.eur(requested) if requested is not None else "—"},
        )
    )
    blocks.append(Block("section", _("Checks")))
    for check in checks.check_application(application, today=today):
        verdict = _("passed") if check.passed else _("not passed")
        blocks.append(Block("item", f"{check.rule}: {check.message} ({verdict})"))
    return blocks


def submission_zip(application: GrantApplication, *, today: dt.date) -> bytes:
    """Return the ZIP: application.json, summary.pdf and attachments/ (every stored file)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        data = application_data(application, today=today)
        archive.writestr("application.json", json.dumps(data, ensure_ascii=False, indent=2))
        with translation.override("it"):
            blocks = _summary_blocks(application, today)
        archive.writestr("summary.pdf", to_pdf(blocks, title=blocks[0].text))
        for phase in application.disbursements.all():
            if phase.progress_report:
                with phase.progress_report.open("rb") as handle:
                    archive.writestr(
                        f"attachments/{phase.pk}-progress-report-{_tail(phase.progress_report.name)}",
                        handle.read(),
                    )
            for document in phase.documents.all():
                if document.file:
                    with document.file.open("rb") as handle:
                        archive.writestr(
                            f"attachments/{phase.pk}-{document.pk}-{_tail(document.file.name)}",
                            handle.read(),
                        )
    return buffer.getvalue()


def _tail(name: str) -> str:
    return name.rsplit("/", 1)[-1]
