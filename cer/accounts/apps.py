from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "cer.accounts"
    label = "accounts"
    verbose_name = _("Accounts and access")

    def ready(self) -> None:
        # Connects the signals, registers the rules and the deploy check.
        from cer.accounts import checks, signals, tokens  # noqa: F401
