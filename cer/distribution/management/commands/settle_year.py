"""Settle the twelve months of a year, reading the year once; with --distribute, share them out.

For a community that starts with a year of readings at once (its grid operator's files), or
after a correction that touches every month: `compute_settlement` settles one month, this
command a whole year in one pass (cer.settlement.services.compute_year). Distributing issues
every member's statements and cannot be undone, so it asks first, naming what it will do,
unless --yes says so on the command line.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cer.communities.models import Configuration
from cer.core import formatting
from cer.distribution.services import NegativeAmount, NoPolicy, SupersededVersion
from cer.distribution.year import settle_and_distribute_year
from cer.settlement.commands import configurations_to_settle
from cer.settlement.services import SettlementError, compute_year
from cercalc.distribution import InvalidPlan

# What a month can be refused for: reported, and the next configuration goes on.
_REFUSALS = (SettlementError, NoPolicy, NegativeAmount, SupersededVersion, InvalidPlan)


class Command(BaseCommand):
    help = "Settle the twelve months of a year (e.g. --year 2025); --distribute shares them out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="YYYY")
        parser.add_argument("--configuration", type=int, help="one configuration id")
        parser.add_argument(
            "--distribute",
            action="store_true",
            help="also distribute each month and issue the members' statements",
        )
        parser.add_argument(
            "--yes", action="store_true", help="distribute without asking (scripts)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"]
        if not 2000 <= year <= 2100:
            raise CommandError("--year must be a year such as 2025")
        configurations = configurations_to_settle(options["configuration"])
        if options["distribute"] and not options["yes"]:
            self._confirm(year, list(configurations))
        failed = False
        for configuration in configurations:
            try:
                self._settle(configuration, year, distribute=options["distribute"])
            except (
                SettlementError,
                NoPolicy,
                NegativeAmount,
                SupersededVersion,
                InvalidPlan,
            ) as error:
                # The months before the one refused stay settled (and distributed).
                self.stderr.write(f"{configuration}: {year}: {error}")
                failed = True
        if failed:
            raise CommandError("some configurations were not settled")

    def _settle(self, configuration: Configuration, year: int, *, distribute: bool) -> None:
        now = timezone.now()
        if not distribute:
            for outcome in compute_year(configuration=configuration, year=year, now=now):
                state = "new version" if outcome.created else "unchanged"
                run = outcome.run
                self.stdout.write(f"{configuration}: {run.month:%Y-%m} v{run.version} ({state})")
            return
        for distribution in settle_and_distribute_year(
            configuration=configuration, year=year, now=now
        ):
            run = distribution.run
            self.stdout.write(
                f"{configuration}: {run.month:%Y-%m} v{run.version} distributed: "
                f"{formatting.eur(distribution.amount_eur)} "
                f"({distribution.get_amount_basis_display()})"
            )

    def _confirm(self, year: int, configurations: list[Configuration]) -> None:
        names = ", ".join(str(configuration) for configuration in configurations) or "none"
        self.stdout.write(
            f"This settles the twelve months of {year} for {names} and distributes each one: "
            "every member receives a statement of the month, and a distribution is not "
            "undone (a later version adds lines)."
        )
        answer = input("Type 'yes' to go on: ")
        if answer.strip().lower() != "yes":
            raise CommandError("nothing done: not confirmed")
