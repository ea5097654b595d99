"""Import day-ahead zonal prices (GME MGP files or the simple CSV)."""

from __future__ import annotations

import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cer.imports.services import ImportRefused, import_prices

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Import zonal prices at their native resolution (hourly or quarter-hourly); "
        "real prices replace the synthetic demo prices of the same zone and intervals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", type=Path, nargs="+")
        parser.add_argument("--format", choices=["auto", "gme", "csv"], default="auto")

    def handle(self, *args: object, **options: object) -> None:
        refused = []
        for path in options["files"]:  # type: ignore[attr-defined]
            try:
                batch = import_prices(
                    data=path.read_bytes(),
                    file_name=path.name,
                    now=timezone.now(),
                    kind=str(options["format"]),
                )
            except ImportRefused as refusal:
                logger.error("%s refused: %s", path.name, refusal.batch.message)
                refused.append(path.name)
                continue
            logger.info(
                "%s: intervals inserted %s, superseded %s, unchanged %s; synthetic replaced "
                "%s; rows rejected %s (batch %s)",
                path.name,
                batch.intervals_inserted,
                batch.intervals_superseded,
                batch.intervals_unchanged,
                batch.synthetic_replaced,
                batch.rows_rejected,
                batch.pk,
            )
            for row in batch.rejected_rows.all()[:20]:
                logger.warning("line %s, %s: %s", row.line_number, row.field, row.reason)
        if refused:
            raise CommandError(f"Refused: {', '.join(refused)}")
