"""Anonymise a member on request (GDPR art. 17), from the back office."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cer.members.models import Member
from cer.privacy import gdpr


class Command(BaseCommand):
    help = "Anonymise a member's personal data, keeping what the law requires."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--member", type=int, required=True, help="Member id.")
        parser.add_argument("--reason", required=True, help="Why (shown in the record).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            member = Member.objects.get(pk=options["member"])
            erasure = gdpr.erase_member(
                member=member, actor=None, reason=options["reason"], now=timezone.now()
            )
        except Member.DoesNotExist as error:
            raise CommandError(f"no member {options['member']}") from error
        except gdpr.MembershipStillActive as error:
            raise CommandError("the member still has an active membership") from error
        except gdpr.AlreadyErased as error:
            raise CommandError("the member was already erased") from error
        self.stdout.write(json.dumps({"erased": erasure.erased, "kept": erasure.kept}, indent=2))
