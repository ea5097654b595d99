"""Load the demo community (a CER in Spinea with a year of readings), once."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from cer.demo.loader import load_demo


class Command(BaseCommand):
    help = "Load the demo community with a year of hourly readings; does nothing if present."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2025, help="random seed of the generator")

    def handle(self, *args, seed: int, **options) -> None:
        started = time.monotonic()
        result = load_demo(seed=seed, now=timezone.now())
        if result.created:
            self.stdout.write(
                f"Demo community '{result.community.name}' loaded: "
                f"{result.readings} hourly readings in {time.monotonic() - started:.1f} s."
            )
        else:
            self.stdout.write(f"Demo community '{result.community.name}' already present.")
