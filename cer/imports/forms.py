"""Upload forms: a file, its layout and, for other CSVs, a column mapping in JSON."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.imports.curves import ColumnMapping, FileRefused

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class CurveUploadForm(forms.Form):
    file = forms.FileField(label=_("Load-curve file"))
    format = forms.ChoiceField(
        label=_("Layout"),
        choices=[
            ("auto", _("Recognise automatically")),
            ("edistribuzione", _("e-distribuzione CSV export")),
            ("sii", _("SII measurement flow (XML)")),
            ("mapped", _("Other CSV, described by the column mapping below")),
        ],
        initial="auto",
    )
    mapping = forms.CharField(
        label=_("Column mapping (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_('For example {"pod": "POD", "timestamp": "Date", "withdrawn": "kWh"}.'),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 200 MB: split it."))
        return upload

    def clean_mapping(self) -> ColumnMapping | None:
        text = self.cleaned_data["mapping"].strip()
        if not text:
            return None
        try:
            return ColumnMapping.from_dict(json.loads(text))
        except (ValueError, TypeError, FileRefused) as error:
            raise forms.ValidationError(
                _("The column mapping is not valid: %(error)s"), params={"error": error}
            ) from None

    def clean(self):
        data = super().clean()
        if data.get("format") == "mapped" and not data.get("mapping"):
            self.add_error("mapping", _("The layout 'Other CSV' needs a column mapping."))
        return data
