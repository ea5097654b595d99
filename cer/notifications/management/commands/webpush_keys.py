"""Make the server's VAPID key for web push (once), and print its public key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cer.notifications import webpush


class Command(BaseCommand):
    help = (
        "Create the VAPID private key in WEBPUSH_VAPID_PRIVATE_KEY_FILE (mode 0600) if it "
        "is missing, and print the public key browsers subscribe with."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        path, made = webpush.ensure_vapid_key()
        self.stdout.write(f"{'created' if made else 'kept'} {path}")
        self.stdout.write(f"public key: {webpush.public_key()}")
