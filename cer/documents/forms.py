"""Uploading a document, or a new version of one, to a community's archive."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.documents.models import Document, DocumentKind, SignatureStatus
from cer.documents.retention import MAX_YEARS
from cer.documents.search import UNSIGNED, Filters
from cer.documents.services import ACCEPTED
from cer.members.models import Member
from cer.plants.models import Plant

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


SIGNATURE_CHOICES = [
    ("", _("any")),
    (SignatureStatus.VALID, _("signature valid")),
    (SignatureStatus.INVALID, _("signature not valid")),
    (SignatureStatus.INDETERMINATE, _("signature: cannot tell")),
    (UNSIGNED, _("never verified")),
]


class SearchForm(forms.Form):
    """The archive's search box and filters (GET). Member and plant are for managers only."""

    q = forms.CharField(label=_("words"), max_length=200, required=False)
    kind = forms.ChoiceField(
        label=_("type"), choices=[("", _("any")), *DocumentKind.choices], required=False
    )
    date_from = forms.DateField(
        label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    member = forms.ModelChoiceField(
        label=_("member"), queryset=Member.objects.none(), required=False, empty_label=_("any")
    )
    plant = forms.ModelChoiceField(
        label=_("plant"), queryset=Plant.objects.none(), required=False, empty_label=_("any")
    )
    signature = forms.ChoiceField(label=_("signature"), choices=SIGNATURE_CHOICES, required=False)

    def __init__(self, *args: Any, community: Any, manager: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if manager:
            _limit(self, "member", members_of(community))
            _limit(self, "plant", plants_of(community))
        else:
            # Who a document concerns is the managers' business.
            del self.fields["member"], self.fields["plant"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the range comes before its start."))
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        member, plant = data.get("member"), data.get("plant")
        return Filters(
            kind=data.get("kind") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            member_id=member.pk if member else None,
            plant_id=plant.pk if plant else None,
            signature=data.get("signature") or "",
        )


def members_of(community: Any) -> Any:
    return Member.objects.filter(memberships__community=community).distinct()


def plants_of(community: Any) -> Any:
    return Plant.objects.filter(connection_point__configuration__community=community)


def _limit(form: forms.BaseForm, name: str, queryset: Any) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


class LinksForm(forms.ModelForm):
    """The member and the plant a document concerns (both optional)."""

    class Meta:
        model = Document
        fields = ["member", "plant"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        community = self.instance.community
        _limit(self, "member", members_of(community))
        _limit(self, "plant", plants_of(community))


class RetentionForm(forms.Form):
    """The retention period in years of each document type; empty keeps for ever."""

    def __init__(self, *args: Any, years: dict[str, int | None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in DocumentKind.choices:
            self.fields[kind] = forms.IntegerField(
                label=label,
                required=False,
                min_value=1,
                max_value=MAX_YEARS,
                initial=years.get(kind),
                help_text=_("years; empty: for the community's life"),
            )

    def years(self) -> dict[str, int | None]:
        return {kind: self.cleaned_data.get(kind) for kind, _label in DocumentKind.choices}


class KeepForm(forms.Form):
    keep_until = forms.DateField(
        label=_("keep until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    keep_reason = forms.CharField(label=_("reason"), max_length=200)
