from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    """Who may see and do what: the django-rules predicates and their queryset twins.

    An app rather than a plain package so that the rules register themselves when
    Django starts, whichever apps are installed beside it.
    """

    name = "cer.access"
    label = "access"
    verbose_name = _("Access rules")

    def ready(self) -> None:
        # Registers the object-level permissions with django-rules.
        from cer.access import rules  # noqa: F401
