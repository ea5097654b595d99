from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeteringConfig(AppConfig):
    name = "cer.metering"
    label = "metering"
    verbose_name = _("Metering")

    def ready(self) -> None:
        # A member's devices and readings in the GDPR export, and the rejected messages'
        # retention rule: privacy is on a lower floor and cannot import metering.
        from cer.metering import privacy

        privacy.register()
        # Devices gone silent are checked by the notification sender's rounds.
        from cer.metering.silence import notify_silent_devices
        from cer.notifications.hooks import register_periodic_check

        register_periodic_check("metering.device.silent", notify_silent_devices)
