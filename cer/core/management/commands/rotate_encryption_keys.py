"""Re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cer.core.crypto import DecryptionFailed, EncryptedTextField

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt encrypted fields with the newest key (first in FIELD_ENCRYPTION_KEYS); "
        "afterwards the old keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            names = [
                f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
            ]
            if not names:
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
                            # Reading decrypts with any key; saving encrypts with the first.
                            obj.save(update_fields=names)
                            count += 1
            except DecryptionFailed as error:
                raise CommandError(
                    f"{model._meta.label}: a row no configured key decrypts; nothing changed"
                ) from error
            self.stdout.write(
                f"{model._meta.label}: {count} rows re-encrypted ({', '.join(names)})"
            )
