from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    """Compliance files: the anti-mafia file of a community, the DNSH checklist of a plant."""

    name = "cer.compliance"
    label = "compliance"
    verbose_name = _("Compliance files")

    def ready(self) -> None:
        from cer.compliance import notices  # noqa: F401  (registers the topics)
