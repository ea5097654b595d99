"""Creating a personal access token from the web page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.api.models import TokenScope

LIFETIME_DAYS = [
    (30, _("30 days")),
    (90, _("90 days")),
    (180, _("180 days")),
    (365, _("1 year")),
]


class PersonalTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. the accountant's spreadsheet."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.READ],
    )
    lifetime_days = forms.TypedChoiceField(
        label=_("Valid for"), choices=LIFETIME_DAYS, coerce=int, initial=90
    )
