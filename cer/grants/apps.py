from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GrantsConfig(AppConfig):
    """The PNRR grant file of a plant: application, disbursement phases, other grants."""

    name = "cer.grants"
    label = "grants"
    verbose_name = _("PNRR grants")
