from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "cer.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        # Registers the documents' notification topics (the preferences page lists them).
        from cer.documents import notices  # noqa: F401
