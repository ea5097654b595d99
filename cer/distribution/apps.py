from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistributionConfig(AppConfig):
    name = "cer.distribution"
    label = "distribution"
    verbose_name = _("Distribution")

    def ready(self) -> None:
        # The wizard's split becomes the new community's first policy (wizard_policy.py).
        from cer.constitution.services import on_constituted
        from cer.distribution.wizard_policy import policy_from_wizard

        on_constituted(policy_from_wizard)

        # The statute and the regulation spell out the policy (statute_terms.py).
        from cer.distribution.statute_terms import policy_terms
        from cer.documents.services import add_context_provider

        add_context_provider(policy_terms)
