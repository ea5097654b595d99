"""Forms of the settlement pages: month requests and GSE files."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cer.core.converters import is_sane_year


class MonthField(forms.Field):
    """A month written YYYY-MM, cleaned to its first day."""

    widget = forms.TextInput(attrs={"placeholder": "YYYY-MM", "size": 7})

    def to_python(self, value: str | None) -> dt.date | None:
        text = (value or "").strip()
        if not text:
            return None
        try:
            year, month = text.split("-")
            if not is_sane_year(int(year)):
                raise ValueError(year)
            return dt.date(int(year), int(month), 1)
        except ValueError:
            raise ValidationError(
                _("Write the month as YYYY-MM, between 2000 and 2100."), code="month"
            ) from None


class RunRequestForm(forms.Form):
    month = MonthField(label=_("Month (YYYY-MM)"))


class GseFileForm(forms.Form):
    file = forms.FileField(label=_("GSE CSV file"), required=False)
    # Carried by the page that asks to confirm second payments, which cannot re-send a file.
    content = forms.CharField(widget=forms.HiddenInput, required=False)
    source_name = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)
    mapping = forms.CharField(
        label=_("Column names, if different"),
        required=False,
        help_text=_("e.g. period=Mese, type=Voce, amount=Importo"),
    )

    def clean_mapping(self) -> dict[str, str]:
        mapping = {}
        for pair in self.cleaned_data["mapping"].split(","):
            if "=" in pair:
                ours, theirs = pair.split("=", 1)
                mapping[ours.strip().lower()] = theirs.strip()
        return mapping

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload:
            try:
                cleaned["content"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", _("The file is not UTF-8 text."))
            cleaned["source_name"] = upload.name
        elif not (cleaned.get("content") and cleaned.get("source_name")):
            self.add_error("file", _("Choose a GSE CSV file."))
        return cleaned
