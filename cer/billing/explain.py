"""A statement's figures and the arithmetic behind the member's amount, in plain words.

The same explanation feeds the page, the PDF and the CSV, so the three always agree. Energies
are kept in Wh and rates as Decimal, and formatted where they are shown; the sentences are
written in the reader's language, numbers through cer.core.formatting ("1.234,56" in Italian).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext as _

from cer.billing.models import Statement
from cer.billing.positions import StatementLedger, statement_ledger
from cer.core import formatting
from cer.core.csv_export import CsvDialect, DialectCsv
from cer.distribution.models import AmountBasis, Distribution, DistributionBasis
from cer.settlement.models import GseAmountKind, RunMember, SettlementHour
from cercalc.money import format_kwh, round_half_up
from cercalc.periods import ROME


@dataclass(frozen=True)
class StatementFigures:
    statement: Statement
    # The month in words ("giugno 2025"), in the language active when the figures were built.
    month_label: str
    injected_wh: int
    withdrawn_wh: int
    consumer_shared_wh: int
    producer_shared_wh: int
    community_shared_wh: int
    active_hours: int
    hours: int
    incentive_eur: Decimal
    valorisation_eur: Decimal
    fees_eur: Decimal
    amount_eur: Decimal
    # None when the month had no incentivised (or no shared) energy to divide by.
    average_tariff_eur_per_mwh: Decimal | None
    valorisation_eur_per_mwh: Decimal | None
    steps: list[str]
    lines: list[tuple[str, Decimal]]
    # Every line with its kind in words, the running position and what was paid.
    ledger: StatementLedger
    # Where each part of the month's amount came from: (part, source, amount [EUR]).
    amount_sources: list[tuple[str, str, Decimal]] = field(default_factory=list)


def _eur(value: Decimal | Fraction | str) -> str:
    # The sentences keep their "EUR" after the figure: only the figure is formatted here.
    return formatting.number(round_half_up(Fraction(value), 2), 2)


def _exact(value: Fraction) -> str:
    return formatting.number(round_half_up(value, 6), 6)


def _kwh_figure(energy_wh: int) -> str:
    # The unit follows in the sentence ("%(weight)s %(unit)s"): the figure alone, in kWh.
    return formatting.number(Fraction(int(energy_wh), 1000), 3)


def figures(statement: Statement) -> StatementFigures:
    """Collect the figures of a statement and write the steps that gave its amount."""
    distribution = statement.distribution
    run = distribution.run
    row = RunMember.objects.filter(run=run, member_id=statement.member_id).first()
    share = distribution.shares.filter(member_id=statement.member_id).first()
    month_label = formatting.month(run.month)
    incentivised = sum(p.incentivised_wh for p in run.plant_rows.all())
    # [EUR] ÷ [Wh] × 1 000 000 = [EUR/MWh]
    average = (
        round_half_up(Fraction(run.incentive_eur) * 1_000_000 / incentivised, 2)
        if incentivised
        else None
    )
    valorisation_rate = (
        round_half_up(Fraction(run.valorisation_eur) * 1_000_000 / run.shared_wh, 2)
        if run.shared_wh
        else None
    )
    steps: list[str] = []
    if distribution.amount_basis == AmountBasis.GSE:
        steps.append(
            _("In %(month)s the community received %(amount)s EUR, as certified by GSE.")
            % {"month": month_label, "amount": _eur(distribution.amount_eur)}
        )
    elif distribution.amount_basis == AmountBasis.MIXED:
        steps.append(
            _(
                "In %(month)s the community received %(amount)s EUR: GSE's certified figures "
                "where GSE has certified them, our calculation from the hourly readings for "
                "the rest (see where the month's amount comes from)."
            )
            % {"month": month_label, "amount": _eur(distribution.amount_eur)}
        )
    else:
        steps.append(
            _(
                "In %(month)s the community earned %(amount)s EUR: incentive tariff "
                "%(incentive)s EUR + valorisation %(valorisation)s EUR − GSE fees for the "
                "month %(fees)s EUR (estimated from the hourly readings; GSE's figures "
                "replace these when they arrive)."
            )
            % {
                "month": month_label,
                "amount": _eur(distribution.amount_eur),
                "incentive": _eur(run.incentive_eur),
                "valorisation": _eur(run.valorisation_eur),
                "fees": _eur(run.gse_fees_eur),
            }
        )
    pots_total = Decimal(0)
    for pot in distribution.pots:
        pots_total += Decimal(pot["amount_eur"])
        steps.append(
            _("The statute sets aside for “%(label)s”: %(amount)s EUR.")
            % {"label": pot["label"], "amount": _eur(pot["amount_eur"])}
        )
    steps.append(
        _("What remains is shared among the members: %(rest)s EUR.")
        % {"rest": _eur(Fraction(distribution.amount_eur) - Fraction(pots_total))}
    )
    for part in share.parts if share else []:
        weight, total = Fraction(part["weight"]), Fraction(part["total_weight"])
        component = Fraction(part["component_eur"])
        basis = part["basis"]
        if basis == DistributionBasis.EQUAL:
            unit = _("hours of membership")
            shown_weight, shown_total = formatting.number(weight), formatting.number(total)
        elif basis == DistributionBasis.CUSTOM:
            unit = _("weighted hours")
            shown_weight, shown_total = _exact(weight), _exact(total)
        else:
            unit = "kWh"
            shown_weight, shown_total = _kwh_figure(int(weight)), _kwh_figure(int(total))
        steps.append(
            _(
                "%(basis)s: %(component)s EUR × your %(weight)s %(unit)s ÷ %(total)s %(unit)s "
                "of all members = %(exact)s EUR."
            )
            % {
                "basis": DistributionBasis(basis).label
                + (f" ({part['side']})" if part["side"] != "all" else ""),
                "component": _eur(component),
                "weight": shown_weight,
                "total": shown_total,
                "unit": unit,
                "exact": _exact(Fraction(part["exact_eur"])),
            }
        )
    if share is not None:
        steps.append(
            _(
                "Rounded to the cent: %(amount)s EUR. Cents left over by rounding go to the "
                "largest remainders, so that all shares and pots add up exactly to the total."
            )
            % {"amount": _eur(share.amount_eur - share.correction_eur)}
        )
        if share.correction_eur:
            steps.append(
                _(
                    "The 55 %%/45 %% rule: enterprises may receive at most %(ceiling)s EUR this "
                    "month; your share changes by %(correction)s EUR."
                )
                % {
                    "ceiling": _eur(distribution.enterprise_ceiling_eur),
                    "correction": _eur(share.correction_eur),
                }
            )
    if share is None:
        steps.append(
            _(
                "You are not part of settlement version %(version)s of this month (your "
                "membership dates or points changed, for example): the share the month's "
                "calculation had given you is withdrawn by a line of its own."
            )
            % {"version": run.version}
        )
    if statement.version > 1:
        steps.append(
            _("This is version %(version)s of the statement: %(reason)s.")
            % {"version": statement.version, "reason": statement.reason}
        )
    # Provisional follows the run: until it is final; a run made final despite missing data
    # says why (SettlementRun.amounts_provisional, override_reason).
    if run.provisional and run.amounts_provisional:
        steps.append(
            _(
                "Some readings or prices were missing: the amounts are provisional and will be "
                "recomputed when the data arrive."
            )
        )
    elif run.provisional and run.override_reason:
        steps.append(
            _(
                "Some readings or prices were missing; the community made the month final "
                "anyway, for this reason: %(reason)s"
            )
            % {"reason": run.override_reason}
        )
    return StatementFigures(
        statement=statement,
        month_label=month_label,
        injected_wh=row.injected_wh if row else 0,
        withdrawn_wh=row.withdrawn_wh if row else 0,
        consumer_shared_wh=row.consumer_shared_wh if row else 0,
        producer_shared_wh=row.producer_shared_wh if row else 0,
        community_shared_wh=run.shared_wh,
        active_hours=row.active_hours if row else 0,
        hours=run.hours,
        incentive_eur=run.incentive_eur,
        valorisation_eur=run.valorisation_eur,
        fees_eur=run.gse_fees_eur,
        amount_eur=statement.amount_eur,
        average_tariff_eur_per_mwh=average,
        valorisation_eur_per_mwh=valorisation_rate,
        steps=steps,
        lines=[(line.shown_description, line.amount_eur) for line in statement.lines.all()],
        ledger=statement_ledger(statement),
        amount_sources=amount_sources(distribution, statement.created_at),
    )


def amount_sources(
    distribution: Distribution, issued_at: dt.datetime
) -> list[tuple[str, str, Decimal]]:
    """Return, for each part of the month's amount, its label, its source and its amount.

    The parts are those of the latest GSE adjustment issued by `issued_at`, else the
    distribution's own (cer.distribution.services.month_amount).
    """
    adjustment = (
        distribution.gse_adjustments.filter(created_at__lte=issued_at)
        .order_by("-created_at", "-pk")
        .first()
    )
    parts = adjustment.amount_parts if adjustment is not None else distribution.amount_parts
    kinds = dict(GseAmountKind.choices)
    return [
        (
            str(kinds.get(part["kind"], part["kind"])),
            str(_("certified by GSE"))
            if part["source"] == AmountBasis.GSE
            else str(_("our calculation from the hourly readings")),
            Decimal(part["amount_eur"]),
        )
        for part in parts
    ]


def hourly_csv(statement: Statement, dialect: CsvDialect = CsvDialect.EXCEL) -> str:
    """Return the member's hour-by-hour energies and part of shared energy as CSV [kWh].

    The Italian Excel dialect (default) writes each hour's local start as "01/06/2025 00:00"
    beside its UTC start; the repeated October hour is told apart by its UTC column. The
    plain dialect writes ISO 8601 instants (cer.core.csv_export).
    """
    run = statement.distribution.run
    row = RunMember.objects.filter(run=run, member_id=statement.member_id).first()
    hours = list(
        SettlementHour.objects.filter(run=run)
        .order_by("hour_start")
        .values_list("hour_start", "shared_wh", "price_eur_per_mwh")
    )
    series = row.hourly() if row is not None else None
    out = DialectCsv(dialect)
    out.header(
        [
            "hour_start_local",
            "hour_start_utc",
            "injected_kwh",
            "withdrawn_kwh",
            "your_shared_as_consumer_kwh",
            "your_plants_shared_kwh",
            "community_shared_kwh",
            "zonal_price_eur_per_mwh",
        ],
        [
            _("Hour (Italian time)"),
            _("Hour (UTC)"),
            _("Injected [kWh]"),
            _("Withdrawn [kWh]"),
            _("Your shared energy as a consumer [kWh]"),
            _("Shared energy from your plants [kWh]"),
            _("Shared energy of the community [kWh]"),
            _("Zonal price [EUR/MWh]"),
        ],
    )
    excel = dialect == CsvDialect.EXCEL
    for index, (start, shared, price) in enumerate(hours):
        values = series[:, index].tolist() if series is not None else [0, 0, 0, 0]
        local = start.astimezone(ROME)
        out.writerow(
            [
                local.strftime("%d/%m/%Y %H:%M") if excel else local.isoformat(),
                start.astimezone(dt.UTC).strftime(
                    "%d/%m/%Y %H:%M" if excel else "%Y-%m-%dT%H:%M:%SZ"
                ),
                # Numbers stay numbers: only text is neutralised; a negative price is no formula.
                *[Decimal(format_kwh(v)) for v in values],
                Decimal(format_kwh(shared)),
                price,
            ]
        )
    return out.content()
