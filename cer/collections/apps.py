from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsConfig(AppConfig):
    """Payment requests to members, SEPA Direct Debit mandates and files, pagoPA notices."""

    name = "cer.collections"
    label = "collections"
    verbose_name = _("Collections")

    def ready(self) -> None:
        from cer.collections import accounts, notices, permissions  # noqa: F401 (registers them)

        accounts.register()
