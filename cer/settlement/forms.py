"""Forms of the settlement pages: month requests, the distribution policy, GSE files, payouts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from cer.communities.models import Community
from cer.core.converters import is_sane_year
from cer.core.validators import normalise_code, validate_iban
from cer.distribution.models import DistributionBasis, ExcessPolicy, MissingDataPolicy
from cer.members.models import Member


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


class PolicyForm(forms.Form):
    valid_from = forms.DateField(label=_("Valid from"))
    excess_policy = forms.ChoiceField(label=_("55 %/45 % rule"), choices=ExcessPolicy.choices)
    excess_to_social_percent = forms.DecimalField(
        label=_("Share of a correction to the social pot [%]"),
        min_value=0,
        max_value=100,
        initial=0,
        decimal_places=2,
    )
    missing_data = forms.ChoiceField(
        label=_("Missing readings or prices"), choices=MissingDataPolicy.choices
    )
    custom_weights = forms.CharField(
        label=_("Custom weights"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One member per line: tax code = weight."),
    )

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community = community

    def clean_custom_weights(self) -> dict[int, Decimal]:
        weights: dict[int, Decimal] = {}
        # Only the community's own members, past or present: a tax code registered in another
        # community gets the same answer as one registered nowhere.
        members = Member.objects.filter(memberships__community=self.community).distinct()
        for number, line in enumerate(self.cleaned_data["custom_weights"].splitlines(), start=1):
            if not line.strip():
                continue
            code, _sep, value = line.partition("=")
            member = members.with_fiscal_code(code).first()
            if member is None:
                raise ValidationError(
                    _("Line %(n)s: no member of this community has the tax code %(code)s."),
                    params={"n": number, "code": code.strip()},
                )
            try:
                weights[member.pk] = Decimal(value.strip())
            except ArithmeticError:
                raise ValidationError(
                    _("Line %(n)s: the weight is not a number."), params={"n": number}
                ) from None
        return weights


class PotForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=30)
    label = forms.CharField(label=_("Label"), max_length=100)
    percent = forms.DecimalField(label=_("Percentage [%]"), required=False, decimal_places=2)
    fixed_eur = forms.DecimalField(label=_("Fixed [EUR]"), required=False, decimal_places=2)
    social = forms.BooleanField(label=_("Social purposes"), required=False)


class ComponentForm(forms.Form):
    basis = forms.ChoiceField(label=_("Basis"), choices=DistributionBasis.choices)
    percent = forms.DecimalField(label=_("Share of the rest [%]"), decimal_places=2)
    producers_percent = forms.DecimalField(
        label=_("Producers' side [%]"), required=False, decimal_places=2
    )


PotFormSet = forms.formset_factory(PotForm, extra=4)
ComponentFormSet = forms.formset_factory(ComponentForm, extra=3)


class GseFileForm(forms.Form):
    file = forms.FileField(label=_("GSE CSV file"))
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


class PayoutForm(forms.Form):
    period_start = MonthField(label=_("From month (YYYY-MM)"))
    period_end = MonthField(label=_("To month, included (YYYY-MM)"))
    debtor_name = forms.CharField(label=_("Account holder"), max_length=70)
    debtor_iban = forms.CharField(
        label=_("Debit account IBAN"), max_length=34, validators=[validate_iban]
    )
    debtor_bic = forms.CharField(label=_("BIC"), max_length=11)
    execution_date = forms.DateField(label=_("Execution date"))

    def clean_debtor_iban(self) -> str:
        return normalise_code(self.cleaned_data["debtor_iban"])


class DisputeOpenForm(forms.Form):
    message = forms.CharField(label=_("What do you contest?"), widget=forms.Textarea)


class MediatorField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


class DisputeActionForm(forms.Form):
    """A step of a dispute; the mediator is picked from `mediators`, never typed."""

    action = forms.ChoiceField(
        choices=[(a, a) for a in ("answer", "escalate", "reopen", "resolve", "reject")]
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
        label=_("Correction in the member's favour [EUR]"), required=False, decimal_places=2
    )

    def __init__(self, *args: Any, mediators: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mediator"].queryset = mediators  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        wanted = data.get("action") == "escalate" and "mediator" not in self.errors
        if wanted and not data.get("mediator"):
            self.add_error("mediator", _("Choose the mediator to invite."))
        return data
