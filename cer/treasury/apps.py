from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreasuryConfig(AppConfig):
    """The community's own accounts: expenses, income, the yearly budget, the economic report."""

    name = "cer.treasury"
    label = "treasury"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Registers the rules and the income sources the platform knows of (GSE, grants).
        from cer.treasury import income, permissions  # noqa: F401
