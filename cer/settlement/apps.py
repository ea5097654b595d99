from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    name = "cer.settlement"
    label = "settlement"
    verbose_name = _("Settlement")

    def ready(self) -> None:
        from cer.settlement import (
            permissions,  # noqa: F401 (registers the rules)
            tasks,  # noqa: F401 (registers the tasks request_run sends)
        )
