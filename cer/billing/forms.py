"""Forms of the billing pages.

Invoices: the customer, the lines (a formset) and the invoicing settings. Payouts: the
period and the debit account. Disputes: opening one and moving it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from cer.billing.disputes import STEPS
from cer.billing.invoices import CUSTOMER_FIELDS, LineInput, line_problems
from cer.billing.models import Invoice, InvoicingProfile, Natura
from cer.communities.models import Community
from cer.core.validators import normalise_code
from cer.members.models import Member, Membership

RATE_CHOICES = [("22", "22 %"), ("10", "10 %"), ("5", "5 %"), ("4", "4 %"), ("0", "0 %")]


class CustomerForm(forms.ModelForm):
    """The customer: a member of the community (their record fills the rest) or a third party."""

    class Meta:
        model = Invoice
        fields = list(CUSTOMER_FIELDS)

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(community=community).values("member_id")
        member = self.fields["member"]
        member.queryset = Member.objects.filter(pk__in=members)  # type: ignore[attr-defined]
        member.help_text = _("Leave empty for a customer who is not a member.")
        for name in ("customer_name", "customer_address", "customer_city"):
            self.fields[name].required = False
        self.fields["sdi_code"].required = False

    def clean_sdi_code(self) -> str:
        return normalise_code(self.cleaned_data.get("sdi_code") or "") or "0000000"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("member") is None:
            for name in ("customer_name", "customer_address", "customer_city"):
                if not cleaned.get(name):
                    self.add_error(name, _("Required for a customer who is not a member."))
        return cleaned

    def customer(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in CUSTOMER_FIELDS}


class LineForm(forms.Form):
    description = forms.CharField(label=_("description"), max_length=1000)
    quantity = forms.DecimalField(label=_("quantity"), max_digits=20, decimal_places=8)
    unit_price_eur = forms.DecimalField(
        label=_("unit price [EUR]"), max_digits=20, decimal_places=8
    )
    vat_rate = forms.TypedChoiceField(
        label=_("VAT rate"), choices=RATE_CHOICES, coerce=str, initial="22"
    )
    natura = forms.ChoiceField(
        label=_("Natura (zero rate only)"),
        choices=[("", "—"), *Natura.choices],
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        for name, problems in line_problems(self.as_line()).items():
            self.add_error(name, problems)
        return cleaned

    def as_line(self) -> LineInput:
        data = self.cleaned_data
        return LineInput(
            description=data["description"],
            quantity=data["quantity"],
            unit_price_eur=data["unit_price_eur"],
            vat_rate=Decimal(data["vat_rate"]),
            natura=data.get("natura") or "",
        )


LineFormSet = forms.formset_factory(LineForm, extra=0, min_num=1, validate_min=True, max_num=200)


class InvoicingProfileForm(forms.ModelForm):
    class Meta:
        model = InvoicingProfile
        fields = ["regime_fiscale", "seat_postal_code", "iban"]

    def clean_iban(self) -> str:
        return normalise_code(self.cleaned_data.get("iban") or "")


class DisputeOpenForm(forms.Form):
    message = forms.CharField(label=_("What do you contest?"), widget=forms.Textarea)


class MediatorField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class DisputeActionForm(forms.Form):
    """A step of a dispute, offering only the steps of the user's role (`actions`).

    The field accepts every known step, so that a step outside the role reaches the service
    and is refused there in words; the widget lists only the user's own. The mediator is
    picked from `mediators`, never typed; the mediator and award fields are there only for
    those who may escalate or resolve.
    """

    action = forms.ChoiceField(
        label=_("What do you want to do?"),
        choices=[(code, step.label) for code, step in STEPS.items()],
        widget=forms.RadioSelect,
    )
    message = forms.CharField(label=_("Message"), widget=forms.Textarea, required=False)
    mediator = MediatorField(
        label=_("Mediator"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("A manager of the community or of the platform, not a party to the dispute."),
        # One answer for anyone not on the list (a party, a stranger, an unknown id): the
        # list is all there is to know.
        error_messages={
            "invalid_choice": _(
                "Choose the mediator from the list: a party to the dispute cannot mediate it."
            )
        },
    )
    amount_eur = forms.DecimalField(
        label=_("Award in the member's favour [EUR]"),
        required=False,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text=_(
            "Only when resolving in the member's favour: a new version of the statement adds "
            "this amount as an adjustment line. Leave empty to resolve without an award."
        ),
    )

    def __init__(
        self, *args: Any, actions: Sequence[str], mediators: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].widget.choices = [(code, STEPS[code].label) for code in actions]
        if len(actions) == 1:
            self.fields["action"].initial = actions[0]
        if "escalate" in actions:
            self.fields["mediator"].queryset = mediators  # type: ignore[attr-defined]
        else:
            del self.fields["mediator"]
        if "resolve" not in actions:
            del self.fields["amount_eur"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if "mediator" in self.fields:
            wanted = action == "escalate" and "mediator" not in self.errors
            if wanted and not data.get("mediator"):
                self.add_error("mediator", _("Choose the mediator to invite."))
        if data.get("amount_eur") and action != "resolve":
            self.add_error("amount_eur", _("An award goes only with “Resolve”."))
        if action in ("reply", "answer", "recommend") and not data.get("message", "").strip():
            self.add_error("message", _("Write your message."))
        return data
