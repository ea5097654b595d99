from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "cer.alerts"
    label = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        # The topic must exist before the first alert opens, whoever evaluates first.
        from cer.alerts import notices  # noqa: F401
