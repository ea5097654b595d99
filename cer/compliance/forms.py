"""Forms of the compliance pages: they parse input; antimafia.py and plant_checks.py apply
the rules and name the field they refuse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.compliance.models import OfficeHolder, OfficeRole

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OfficeHolderForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    tax_code = forms.CharField(label=_("Tax code"), max_length=20)
    role = forms.ChoiceField(label=_("Role"), choices=OfficeRole.choices)
    valid_from = forms.DateField(label=_("In office from"), widget=DATE)
    valid_to = forms.DateField(label=_("In office until (exclusive)"), widget=DATE, required=False)


class _HolderChoice(forms.Form):
    def __init__(self, *args: Any, community: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder"] = forms.ModelChoiceField(
            label=_("Office holder"),
            queryset=OfficeHolder.objects.filter(community=community).order_by("full_name", "pk"),
        )
        self.order_fields(["holder"])


class EndOfficeForm(_HolderChoice):
    valid_to = forms.DateField(label=_("Leaves office on"), widget=DATE)


class DeclarationForm(_HolderChoice):
    signed_date = forms.DateField(label=_("Signed on"), widget=DATE)
    relatives = forms.CharField(
        label=_("Adult family members living with them"),
        help_text=_(
            "One per line: full name; tax code; birth date (YYYY-MM-DD); relation. "
            "Leave empty when there is none."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    file = forms.FileField(label=_("Signed declaration (PDF or .p7m)"))

    def clean_relatives(self) -> list[dict[str, str]]:
        rows = []
        for number, line in enumerate(self.cleaned_data["relatives"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(";")]
            if len(parts) != 4:
                raise forms.ValidationError(
                    _("Line %(line)d: give four values separated by “;”.") % {"line": number}
                )
            rows.append(
                {
                    "full_name": parts[0],
                    "tax_code": parts[1],
                    "birth_date": parts[2],
                    "relation": parts[3],
                }
            )
        return rows


class EvidenceForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput)
    answer = forms.ChoiceField(
        label=_("Answer"),
        choices=[("", "—"), ("YES", _("Yes")), ("NO", _("No"))],
        required=False,
    )
    file = forms.FileField(label=_("Evidence document"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class AcceptForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput)
