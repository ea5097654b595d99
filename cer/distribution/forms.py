"""Forms of the distribution policy page: the policy, its pots and its components."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cer.communities.models import Community
from cer.distribution.models import DistributionBasis, ExcessPolicy, MissingDataPolicy
from cer.members.models import Member


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
    """One way of sharing the rest; a row left blank (no basis, no percentage) is unused."""

    # The blank first choice lets an unused row stay blank: a select without one always
    # sends its first basis, which made every spare row count as filled in.
    basis = forms.ChoiceField(
        label=_("Basis"),
        choices=[("", "—"), *DistributionBasis.choices],
        required=False,
    )
    percent = forms.DecimalField(label=_("Share of the rest [%]"), required=False, decimal_places=2)
    producers_percent = forms.DecimalField(
        label=_("Producers' side [%]"), required=False, decimal_places=2
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        basis, percent = data.get("basis"), data.get("percent")
        if basis and percent is None:
            self.add_error("percent", _("Give the share of the rest for this basis."))
        elif not basis and (percent is not None or data.get("producers_percent") is not None):
            self.add_error("basis", _("Choose a basis for this share, or clear the row."))
        return data


PotFormSet = forms.formset_factory(PotForm, extra=4)
ComponentFormSet = forms.formset_factory(ComponentForm, extra=3)
