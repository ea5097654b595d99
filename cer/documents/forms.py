"""Uploading a document, or a new version of one, to a community's archive."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.documents.models import Document, DocumentKind
from cer.documents.services import ACCEPTED

ACCEPT_ATTRIBUTE = ",".join(
    [
        ".pdf",
        ".p7m",
        ".docx",
        ".odt",
        ".png",
        ".jpg",
        ".jpeg",
        *(t.content_type for t in ACCEPTED.values()),
    ]
)


class UploadForm(forms.Form):
    document = forms.ModelChoiceField(
        label=_("new version of"),
        queryset=Document.objects.none(),
        required=False,
        empty_label=_("(a new document)"),
    )
    kind = forms.ChoiceField(
        label=_("type"), choices=[("", "---------"), *DocumentKind.choices], required=False
    )
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    document_date = forms.DateField(
        label=_("date of the document"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    file = forms.FileField(
        label=_("file"),
        help_text=_("PDF, DOCX, ODT, PNG or JPEG; a signed file as PDF (PAdES) or .p7m (CAdES)."),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)
    signed = forms.BooleanField(
        label=_("this file is signed"),
        required=False,
        help_text=_(
            "The signatures are verified and the result stored with the version. A .p7m "
            "file or a PDF with signatures is verified even without this mark."
        ),
    )
    expected_sha256 = forms.RegexField(
        label=_("SHA-256 of the version sent for signature"),
        regex=r"^[0-9a-fA-F]{64}$",
        required=False,
        help_text=_("Optional: the signed content must be exactly that version."),
        error_messages={"invalid": _("Write the 64 hexadecimal digits of a SHA-256 hash.")},
    )

    def __init__(self, *args: Any, community: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["document"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Document.objects.filter(community=community)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("document") is None:
            for name in ("kind", "title", "document_date"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("A new document needs a type, a title and a date."))
        return data
