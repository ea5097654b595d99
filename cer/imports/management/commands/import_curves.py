"""Import a grid-operator load-curve file into the hourly readings of a community."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cer.communities.models import Community
from cer.imports.curves import ColumnMapping, FileRefused
from cer.imports.services import ImportRefused, import_curves

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Import load curves (e-distribuzione CSV, SII XML, or any CSV with --mapping) "
        "into hourly readings with source DSO. Re-importing a file changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--community", type=int, required=True, help="community id")
        parser.add_argument(
            "--format",
            choices=["auto", "edistribuzione", "sii", "mapped"],
            default="auto",
        )
        parser.add_argument(
            "--mapping", type=Path, help="JSON column mapping (docs/imports.md) for other CSVs"
        )
        parser.add_argument("--user", help="username recorded as the uploader")

    def handle(self, *args: object, **options: object) -> None:
        path: Path = options["file"]  # type: ignore[assignment]
        try:
            community = Community.objects.get(pk=int(str(options["community"])))
        except Community.DoesNotExist:
            raise CommandError(f"No community with id {options['community']}.") from None
        mapping = None
        if options["mapping"]:
            try:
                raw = json.loads(Path(options["mapping"]).read_text(encoding="utf-8"))  # type: ignore[arg-type]
                mapping = ColumnMapping.from_dict(raw)
            except (OSError, ValueError, FileRefused, TypeError) as error:
                raise CommandError(f"Bad column mapping: {error}") from None
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
        try:
            batch = import_curves(
                community=community,
                data=path.read_bytes(),
                file_name=path.name,
                now=timezone.now(),
                kind=str(options["format"]),
                mapping=mapping,
                uploaded_by=user,
            )
        except ImportRefused as refusal:
            raise CommandError(f"{path.name} refused: {refusal.batch.message}") from None
        logger.info(
            "%s: %s rows accepted, %s rejected; hours inserted %s, superseded %s, "
            "unchanged %s, rejected %s (batch %s)",
            path.name,
            batch.rows_accepted,
            batch.rows_rejected,
            batch.intervals_inserted,
            batch.intervals_superseded,
            batch.intervals_unchanged,
            batch.intervals_rejected,
            batch.pk,
        )
        for row in batch.rejected_rows.all()[:20]:
            logger.warning("line %s, %s: %s", row.line_number, row.field, row.reason)
