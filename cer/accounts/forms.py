"""Creating a personal access token from the web page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.accounts.models import TokenScope

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


class PasswordStepForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)


class CodeForm(forms.Form):
    otp = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6 digits of your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
