from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EidConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cer.eid"
    verbose_name = _("SPID and CIE login")

    def ready(self) -> None:
        # Registers the start-up check of the SPID and CIE settings.
        from cer.eid import checks  # noqa: F401
