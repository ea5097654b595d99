from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigningConfig(AppConfig):
    """Signature workflows: a document version sent to named people, each signing it."""

    name = "cer.signing"
    label = "signing"
    verbose_name = _("Signature workflows")

    def ready(self) -> None:
        # The permission rules, the topics and the archive's "executed" state register
        # on import; the GDPR export section by call.
        from cer.signing import notices, privacy, rules, states  # noqa: F401

        privacy.register()
