"""What the settlement commands share: the configurations a command line asks for."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import QuerySet

from cer.communities.models import Configuration, ConfigurationStatus


def configurations_to_settle(configuration_id: int | None) -> QuerySet[Configuration]:
    """The configuration given (--configuration), else every ACTIVE one, in key order.

    Raises CommandError when the configuration given does not exist.
    """
    configurations = Configuration.objects.select_related("community").order_by("pk")
    if configuration_id is None:
        return configurations.filter(status=ConfigurationStatus.ACTIVE)
    chosen = configurations.filter(pk=configuration_id)
    if not chosen.exists():
        raise CommandError(f"no configuration {configuration_id}")
    return chosen
