from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "cer.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Importing them registers the deploy checks and the Sentry check.
        # Importing lookups registers `field__among` (cer/core/lookups.py).
        from cer.core import checks, lookups, sentry  # noqa: F401
