from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """An app only so that Django finds the `load_demo` command; it has no models."""

    name = "cer.demo"
    label = "demo"
    verbose_name = _("Demo data")
