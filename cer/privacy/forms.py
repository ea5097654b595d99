"""Accepting the privacy notice: the required purposes and the optional ones."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.privacy.models import ConsentPurpose
from cer.privacy.services import REQUIRED_PURPOSES


class ConsentForm(forms.Form):
    """One checkbox per purpose; the required ones must be ticked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for purpose in ConsentPurpose:
            required = purpose in REQUIRED_PURPOSES
            self.fields[purpose.value.lower()] = forms.BooleanField(
                label=purpose.label,
                required=required,
                help_text=_("Required to take part.") if required else _("Optional."),
                error_messages={
                    "required": _("This consent is needed to take part in the community.")
                },
            )

    def purposes(self) -> list[str]:
        return [p.value for p in ConsentPurpose if self.cleaned_data.get(p.value.lower())]
