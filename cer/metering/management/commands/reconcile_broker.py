"""Compare the broker's device accounts with the Device rows; repair with --fix."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cer.metering import broker, reconcile


class Command(BaseCommand):
    help = (
        "List mismatches between the broker's dynamic-security accounts and the device rows; "
        "with --fix, repair those that need no secret. Exits non-zero while mismatches remain."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--fix",
            action="store_true",
            help="delete orphan clients and roles, disable clients of disabled devices, "
            "delete clients of deleted devices, restore role ACLs",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with broker.DynsecSession() as session:
                found = reconcile.find_mismatches(session=session)
                for mismatch in found:
                    marker = " (fixable)" if mismatch.fixable else ""
                    self.stdout.write(f"{mismatch}{marker}")
                remaining = found
                if options["fix"] and any(mismatch.fixable for mismatch in found):
                    repaired = reconcile.repair(
                        mismatches=found, session=session, now=timezone.now()
                    )
                    for mismatch in repaired:
                        self.stdout.write(f"repaired {mismatch.kind} {mismatch.name}")
                    remaining = reconcile.find_mismatches(session=session)
        except broker.BrokerError as error:
            raise CommandError(f"broker: {error}") from error
        if remaining:
            raise CommandError(f"{len(remaining)} mismatch(es) remain")
        self.stdout.write("broker and device rows agree")
