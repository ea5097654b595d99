"""The forms of the signature pages: send for signature, upload a signed file, type a code."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cer.documents.models import DocumentVersion
from cer.members.models import Member
from cer.signing.models import SignatureKind

AUTO = "AUTO"
WHO_CHOICES = [
    (AUTO, _("As usual for the type: statute → founders, mandate → each member, others → chosen")),
    ("FOUNDERS", _("The founders")),
    ("MEMBERS", _("Every member of the community")),
    ("CHOSEN", _("The members chosen below")),
    ("BY_NAME", _("People by name, tax code and e-mail (below)")),
]


class _VersionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.document.title} — {obj.document.get_kind_display()} — v{obj.number}"


class _MemberChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class SendForm(forms.Form):
    version = _VersionChoice(
        label=_("Document version to sign"), queryset=DocumentVersion.objects.none()
    )
    kind = forms.ChoiceField(
        label=_("Kind of signature"),
        choices=SignatureKind.choices,
        initial=SignatureKind.QUALIFIED,
        help_text=_(
            "The simple electronic signature (one-time code) is allowed only for forms, "
            "mandates and releases."
        ),
    )
    who = forms.ChoiceField(label=_("Who signs"), choices=WHO_CHOICES, initial=AUTO)
    members = _MemberChoices(
        label=_("Members chosen"),
        queryset=Member.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    people = forms.CharField(
        label=_("People by name"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line: name; tax code; e-mail."),
    )
    message = forms.CharField(
        label=_("Message to the signers"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, community: Any, members: list[Member], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        version = cast(forms.ModelChoiceField, self.fields["version"])
        version.queryset = DocumentVersion.objects.filter(
            document__community=community
        ).select_related("document")
        chosen = cast(forms.ModelMultipleChoiceField, self.fields["members"])
        chosen.queryset = Member.objects.filter(pk__in=[m.pk for m in members])

    def clean_people(self) -> list[tuple[str, str, str]]:
        """Read "name; tax code; e-mail" lines; a bad line is named by its number."""
        rows = []
        lines = self.cleaned_data["people"].splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(";")]
            if len(parts) != 3 or not all(parts) or "@" not in parts[2]:
                raise forms.ValidationError(
                    _("Line %(n)s: write name; tax code; e-mail.") % {"n": number}
                )
            rows.append((parts[0], parts[1].upper(), parts[2]))
        return rows


class SignedUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Signed file"), help_text=_("The PDF signed (PAdES) or the .p7m envelope (CAdES).")
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code received"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("The code is six digits.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=300)
