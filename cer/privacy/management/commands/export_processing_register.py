"""Print a community's register of processing activities (GDPR art. 30) as CSV or JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from cer.communities.models import Community
from cer.privacy import gdpr


class Command(BaseCommand):
    help = "Print the register of processing activities of a community."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--community", type=int, required=True)
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            community = Community.objects.get(pk=options["community"])
        except Community.DoesNotExist as error:
            raise CommandError(f"no community {options['community']}") from error
        register = gdpr.processing_register(community=community, now=timezone.now())
        if options["format"] == "json":
            self.stdout.write(json.dumps(register, cls=DjangoJSONEncoder, indent=2))
        else:
            self.stdout.write(gdpr.processing_register_csv(register=register), ending="")
