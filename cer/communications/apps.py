from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunicationsConfig(AppConfig):
    name = "cer.communications"
    label = "communications"
    verbose_name = _("Communications")

    def ready(self) -> None:
        # Topics, permission rules and the privacy registrations live in their own
        # modules; importing them registers them.
        from cer.communications import privacy, rules, topics  # noqa: F401

        privacy.register()
