"""Re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEYS.

Saving a row also recomputes its blind indexes (models declare them in
`blind_indexes`), so a run after SECRET_KEY changed puts the lookups right again;
`--reindex` does only that and leaves the encrypted values as they are.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cer.core.crypto import DecryptionFailed, EncryptedTextField

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt encrypted fields with the newest key (first in FIELD_ENCRYPTION_KEYS) "
        "and recompute their blind indexes; afterwards the old keys can be removed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="Only recompute the blind indexes (after SECRET_KEY changed).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            names = [
                f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
            ]
            indexes = [index for index, _purpose in getattr(model, "blind_indexes", {}).values()]
            fields = indexes if options["reindex"] else names
            if not fields:
                continue
            count = 0
            try:
                with transaction.atomic():
                    manager = model._default_manager
                    keys = list(manager.order_by("pk").values_list("pk", flat=True))
                    for start in range(0, len(keys), BATCH):
                        batch = manager.select_for_update().filter(
                            pk__in=keys[start : start + BATCH]
                        )
                        for obj in batch:
                            # Reading decrypts with any key; saving encrypts with the first
                            # and recomputes the blind indexes from the plaintext.
                            obj.save(update_fields=fields)
                            count += 1
            except DecryptionFailed as error:
                raise CommandError(
                    f"{model._meta.label}: a row no configured key decrypts; nothing changed"
                ) from error
            done = "reindexed" if options["reindex"] else "re-encrypted"
            self.stdout.write(
                f"{model._meta.label}: {count} rows {done} ({', '.join([*names, *indexes])})"
            )
