from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConstitutionConfig(AppConfig):
    """Constituting a community: the wizard, its checklist and the founding transaction."""

    name = "cer.constitution"
    label = "constitution"
    verbose_name = _("Constitution")
