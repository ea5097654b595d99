from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "cer.members"
    label = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        # The notification centre stands below the nouns: it learns here who manages a
        # community (a delivery that failed for good is shown to them).
        from cer.members.notices import managers_of
        from cer.members.phones import mobile_number_of
        from cer.notifications.hooks import register_managers_lookup, register_phone_lookup

        register_managers_lookup(managers_of)
        # ... and where a user's mobile number is (the SMS channel).
        register_phone_lookup(mobile_number_of)
