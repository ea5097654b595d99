"""The referente's community report: incentives, valorisation, GSE fees, pots, shares, balance.

One report per period (a month, a quarter or a year: cercalc.periods) and configuration, built
from the latest settlement run of each month and its distribution; written as rows once and
rendered as a page, CSV, XLSX (cer.core.xlsx: amounts as exact decimals) or PDF (reportlab)
from those same rows. Members' shares are summed per member id: two members may share a name.

The rows hold values, not text: amounts and energies [kWh, three decimals] as Decimal, months
as cercalc.periods.Period. The page and the PDF write them in the reader's language
(cer.core.csv_export.cell_text), the CSV in the Italian Excel or the plain dialect.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from cer.billing.pdf import table_pdf
from cer.communities.models import Community
from cer.core.csv_export import CsvDialect, DialectCsv, period_text
from cer.core.xlsx import workbook_bytes
from cer.distribution.models import Distribution
from cer.settlement.models import GseAmount, GseAmountKind, SettlementRun
from cercalc import periods
from cercalc.money import format_kwh
from cercalc.periods import Period


@dataclass(frozen=True)
class Report:
    community: Community
    period: Period
    month_rows: list[list[object]]
    pot_rows: list[list[object]]
    member_rows: list[list[object]]
    balance_rows: list[list[object]]

    def sections(self) -> list[tuple[str, list[list[object]]]]:
        return [
            (_("Months"), self.month_rows),
            (_("Pots"), self.pot_rows),
            (_("Members' shares"), self.member_rows),
            (_("Balance"), self.balance_rows),
        ]


def build_report(*, community: Community, period: Period) -> Report:
    """Collect the period's figures for every configuration of the community."""
    runs: list[SettlementRun] = []
    for configuration in community.configurations.all():
        for month in period.months():
            run = (
                SettlementRun.objects.filter(configuration=configuration, month=month.start)
                .order_by("-version")
                .first()
            )
            if run is not None:
                runs.append(run)
    distributions = {
        d.run_id: d
        for d in Distribution.objects.filter(run__in=runs).prefetch_related("shares__member")
    }
    gse: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
    # Only certified amounts: estimates are never added to them (docs/settlement.md).
    for amount in GseAmount.objects.filter(
        configuration__community=community,
        month__gte=period.start,
        month__lt=period.end,
        certified=True,
    ):
        gse[(amount.configuration_id, amount.month)] += (
            -abs(amount.amount_eur) if amount.kind == GseAmountKind.FEES else amount.amount_eur
        )
    month_rows: list[list[object]] = [
        [
            _("Month"),
            _("Configuration"),
            _("Version"),
            _("Shared [kWh]"),
            _("Incentive [EUR]"),
            _("Valorisation [EUR]"),
            _("GSE fees [EUR]"),
            _("GSE net [EUR]"),
            _("Distributed [EUR]"),
        ]
    ]
    pots: dict[str, Decimal] = defaultdict(Decimal)
    # Keyed by member, never by name: two members may share a name (two "Mario Rossi").
    members: dict[int, Decimal] = defaultdict(Decimal)
    member_names: dict[int, str] = {}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for run in runs:
        distribution = distributions.get(run.pk)
        gse_net = gse.get((run.configuration_id, run.month))
        month_rows.append(
            [
                periods.month(run.month.year, run.month.month),
                run.configuration.name,
                run.version,
                Decimal(format_kwh(run.shared_wh)),
                run.incentive_eur,
                run.valorisation_eur,
                run.gse_fees_eur,
                gse_net if gse_net is not None else "",
                distribution.amount_eur if distribution else "",
            ]
        )
        totals["incentive"] += run.incentive_eur
        totals["valorisation"] += run.valorisation_eur
        totals["fees"] += run.gse_fees_eur
        if distribution is None:
            continue
        totals["distributed"] += distribution.amount_eur
        for pot in distribution.pots:
            pots[pot["label"]] += Decimal(pot["amount_eur"])
        for share in distribution.shares.all():
            members[share.member_id] += share.amount_eur
            member_names[share.member_id] = share.member.display_name
    pot_rows: list[list[object]] = [[_("Pot"), _("Amount [EUR]")]]
    pot_rows += [[label, amount] for label, amount in sorted(pots.items())]
    member_rows: list[list[object]] = [[_("Member"), _("Member id"), _("Share [EUR]")]]
    member_rows += [
        [member_names[member_id], member_id, amount]
        for member_id, amount in sorted(
            members.items(), key=lambda item: (member_names[item[0]], item[0])
        )
    ]
    pots_total = sum(pots.values(), Decimal(0))
    shares_total = sum(members.values(), Decimal(0))
    balance_rows: list[list[object]] = [
        [_("Item"), _("Amount [EUR]")],
        [_("Incentive tariff"), totals["incentive"]],
        [_("Valorisation"), totals["valorisation"]],
        [_("GSE fees (provision)"), -totals["fees"]],
        [_("Amount distributed"), totals["distributed"]],
        [_("Pots"), pots_total],
        [_("Members' shares"), shares_total],
        [
            _("Balance (distributed − pots − shares)"),
            totals["distributed"] - pots_total - shares_total,
        ],
    ]
    return Report(
        community=community,
        period=period,
        month_rows=month_rows,
        pot_rows=pot_rows,
        member_rows=member_rows,
        balance_rows=balance_rows,
    )


def report_csv(report: Report, dialect: CsvDialect = CsvDialect.EXCEL) -> str:
    """Write the report as CSV in `dialect`; names typed by users cannot become formulas."""
    out = DialectCsv(dialect)
    for heading, rows in report.sections():
        out.writerow([heading])
        out.writerows(rows)
        out.writerow([])
    return out.content()


def report_xlsx(report: Report) -> bytes:
    """Write the report as XLSX: amounts exact decimal numbers, texts never formulas."""
    # A spreadsheet sorts and filters months as their key ("2025-06"), not as words.
    sections = [
        (heading, [[_xlsx_cell(cell) for cell in row] for row in rows])
        for heading, rows in report.sections()
    ]
    return workbook_bytes(sections)


def _xlsx_cell(value: object) -> object:
    return value.key if isinstance(value, Period) else value


def report_title(report: Report) -> str:
    """The report's title in the reader's language: "CER Bari — report giugno 2025"."""
    return _("%(community)s — report %(period)s") % {
        "community": report.community.name,
        "period": period_text(report.period),
    }


def report_pdf(report: Report) -> bytes:
    return table_pdf(report_title(report), report.sections())
