"""Read the text of archived document versions, for the archive search."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cer.documents.extraction import refresh


class Command(BaseCommand):
    help = (
        "Extract the text of document versions stored before text extraction existed "
        "(docs/documents.md, archive search); --all reads every version again. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="read every version again")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = refresh(every=options["all"])
        summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        self.stdout.write(f"document text: {summary or 'nothing to read'}")
