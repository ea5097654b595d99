"""The referente's message form and the member's reply form."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cer.communications import fields, services
from cer.communications.models import RecipientFilter, ReplyKind
from cer.communications.ready_made import READY_MADE
from cer.communities.models import Community, Configuration
from cer.members.models import Member, Membership


class MemberChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class PreviewChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.member.display_name


class ComposeForm(forms.Form):
    """A message: its texts, who it goes to, the reply it asks for, and the form's key."""

    subject_it = forms.CharField(label=_("Subject (Italian)"), max_length=200)
    body_it = forms.CharField(label=_("Text (Italian)"), widget=forms.Textarea(attrs={"rows": 8}))
    subject_en = forms.CharField(label=_("Subject (English)"), max_length=200, required=False)
    body_en = forms.CharField(
        label=_("Text (English)"), widget=forms.Textarea(attrs={"rows": 8}), required=False
    )
    recipient_filter = forms.ChoiceField(label=_("Recipients"), choices=RecipientFilter.choices)
    configuration = forms.ModelChoiceField(
        label=_("Configuration"), queryset=Configuration.objects.none(), required=False
    )
    members = MemberChoice(
        label=_("Members picked by hand"), queryset=Member.objects.none(), required=False
    )
    urgent = forms.BooleanField(
        label=_("Urgent: e-mail it at once, not in the daily digest"), required=False
    )
    reply_kind = forms.ChoiceField(
        label=_("Reply asked"), choices=ReplyKind.choices, initial=ReplyKind.NONE
    )
    reply_due_date = forms.DateField(
        label=_("Reply due by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    preview_as = PreviewChoice(
        label=_("Preview as"), queryset=Membership.objects.none(), required=False
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self, *args: Any, community: Community, memberships: list[Membership], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.community = community
        ids = [m.member_id for m in memberships]
        querysets = {
            "configuration": community.configurations.all(),
            "members": Member.objects.filter(pk__in=ids),
        }
        for name, queryset in querysets.items():
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = queryset
        preview = self.fields["preview_as"]
        assert isinstance(preview, forms.ModelChoiceField)
        preview.queryset = Membership.objects.filter(
            pk__in=[m.pk for m in memberships]
        ).select_related("member")
        help_text = _("Fields you can use: %(fields)s.") % {"fields": fields.field_names()}
        self.fields["body_it"].help_text = help_text
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex

    @classmethod
    def initial_from(cls, template: str) -> dict[str, Any]:
        """The initial values of a ready-made template (empty for an unknown one)."""
        made = READY_MADE.get(template)
        if made is None:
            return {}
        return {
            "subject_it": made.subject_it,
            "body_it": made.body_it,
            "subject_en": made.subject_en,
            "body_en": made.body_en,
            "recipient_filter": made.recipient_filter,
            "reply_kind": made.reply_kind,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            services.check_draft(self.draft())
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                self.add_error(key if key in self.fields else None, messages)
        return data

    def draft(self) -> services.Draft:
        data = self.cleaned_data
        return services.Draft(
            subject_it=data["subject_it"],
            body_it=data["body_it"],
            subject_en=data.get("subject_en", ""),
            body_en=data.get("body_en", ""),
            recipient_filter=data["recipient_filter"],
            configuration=data.get("configuration"),
            member_ids=tuple(m.pk for m in data.get("members") or ()),
            urgent=bool(data.get("urgent")),
            reply_kind=data.get("reply_kind") or ReplyKind.NONE,
            reply_due_date=data.get("reply_due_date"),
        )


class ReplyForm(forms.Form):
    """A member's answer: the field shown depends on what the message asks for."""

    text = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 5}))
    file = forms.FileField(
        label=_("Your file (PDF, JPEG or PNG, up to 5 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    iban = forms.CharField(
        label=_("Your IBAN: leave it as it is to confirm it, or write the new one"),
        max_length=40,
        required=False,
    )

    def __init__(self, *args: Any, kind: str, current_iban: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep = {ReplyKind.TEXT: "text", ReplyKind.FILE: "file", ReplyKind.IBAN: "iban"}.get(
            ReplyKind(kind)
        )
        for name in list(self.fields):
            if name != keep:
                del self.fields[name]
        if "iban" in self.fields and not self.is_bound:
            self.initial["iban"] = current_iban
