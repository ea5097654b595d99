"""Apply the retention rules (GDPR art. 5.1.e); run daily from the scheduler."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from cer.privacy.gdpr import all_retention_rules, apply_retention


class Command(BaseCommand):
    help = "Delete or anonymise personal data whose retention period has ended."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--list", action="store_true", help="Only list the rules.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for rule in all_retention_rules():
                self.stdout.write(f"{rule.code}: {rule.description}")
            return
        outcome = apply_retention(now=timezone.now())
        for code, count in outcome.items():
            self.stdout.write(f"{code}: {count}")
