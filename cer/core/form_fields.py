"""Form fields for the platform's reference data, shared by every app's forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cer.core.models import Municipality


class MunicipalityField(forms.CharField):
    """A municipality typed as its name, "Name (PR)" or its six-digit ISTAT code."""

    default_error_messages = {
        "unknown": _("No Italian municipality is called “%(value)s”: check the spelling."),
        "ambiguous": _(
            "Several municipalities are called “%(value)s”: add the province, e.g. "
            "“%(example)s”, or give the ISTAT code."
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 120)
        kwargs.setdefault(
            "help_text", _("The name, e.g. Spinea (VE), or the six-digit ISTAT code.")
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Municipality):
            return str(value)
        if isinstance(value, str) and value.isdigit():
            found = Municipality.objects.filter(pk=value).first()
            return str(found) if found else value
        return value

    def clean(self, value: Any) -> Municipality | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        text = " ".join(text.split())
        if text.isdigit():
            found = Municipality.objects.filter(pk=text).first()
            if found is None:
                raise ValidationError(self.error_messages["unknown"], params={"value": text})
            return found
        name, province = text, ""
        if text.endswith(")") and "(" in text:
            name, _sep, rest = text.rpartition("(")
            name, province = name.strip(), rest.rstrip(")").strip()
        matches = Municipality.objects.filter(name__iexact=name)
        if province:
            matches = matches.filter(province_abbr__iexact=province)
        found_list = list(matches[:2])
        if not found_list:
            raise ValidationError(self.error_messages["unknown"], params={"value": text})
        if len(found_list) > 1:
            raise ValidationError(
                self.error_messages["ambiguous"],
                params={"value": text, "example": str(found_list[0])},
            )
        return found_list[0]
