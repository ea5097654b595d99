"""Forms of the onboarding: registration, personal data, connection points, decisions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext_lazy as _

from cer.communities.models import Community, Configuration
from cer.communities.uniqueness import pod_problem, tax_code_problem
from cer.core.form_fields import MunicipalityField
from cer.core.formsets import UniqueFieldFormSet
from cer.core.validators import normalise_code, validate_iban, validate_pod
from cer.members.changes import SHARED_REFUSAL
from cer.members.models import Member, Membership
from cer.members.phones import normalise_phone, normalised_or_kept


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("email of the person to invite"),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class RegistrationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["email"].widget.attrs["autocomplete"] = "email"


# The name fields that belong to one kind of person only (PersonKind codes).
PERSON_KIND_FIELDS = {"first_name": "NATURAL", "last_name": "NATURAL", "company_name": "LEGAL"}


class MemberForm(forms.ModelForm):
    """A person's own data, as typed by a founder, an applicant or the person themselves.

    The IBAN is not the person's but their membership's: `save()` hands it on as the
    unsaved member's `payout_iban`, for the code that creates the membership.
    """

    municipality = MunicipalityField(label=_("municipality"))
    iban = forms.CharField(
        label=_("IBAN for payouts"),
        max_length=34,
        required=False,
        validators=[validate_iban],
        help_text=_("The account this community pays the member's share to."),
    )

    class Meta:
        model = Member
        fields = list(Member.PERSONAL_FIELDS)

    def __init__(
        self, *args: Any, user: Any = None, community: Community | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Who is typing and where the person joins decide how much a refusal may say
        # (cer.communities.uniqueness); without a user every conflict gets the neutral words.
        self.user = user or AnonymousUser()
        self.community = community
        for name in ("fiscal_code", "vat_number", "iban", "pec"):
            self.fields[name].widget.attrs["data-check"] = name
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        # static/js/person_kind.js shows only the name fields of the chosen kind of person.
        self.fields["kind"].widget.attrs["data-person-kind-choice"] = ""
        for name, kind in PERSON_KIND_FIELDS.items():
            self.fields[name].widget.attrs["data-person-kind"] = kind

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # The fields of the other kind of person are ignored, even when typed before the
        # kind was changed: a company keeps no first name, a person no company name.
        kind = data.get("kind")
        if kind:
            for name, wanted in PERSON_KIND_FIELDS.items():
                if wanted != kind:
                    data[name] = ""
        return data

    def clean_fiscal_code(self) -> str:
        code = normalise_code(self.cleaned_data["fiscal_code"])
        problem = tax_code_problem(code, user=self.user, community=self.community)
        if problem is not None:
            raise problem
        return code

    def clean_iban(self) -> str:
        return normalise_code(self.cleaned_data.get("iban") or "")

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone"))

    def validate_unique(self) -> None:
        # Uniqueness of the tax code is checked in clean_fiscal_code with a clearer message.
        return

    def save(self, commit: bool = True) -> Member:
        member = super().save(commit=commit)
        member.payout_iban = self.cleaned_data.get("iban", "")  # type: ignore[attr-defined]
        return member


class ProfileForm(MemberForm):
    """The applicant's own data; the tax code may not belong to someone registered.

    Give `user` (the applicant) and `community` (where they apply): a taken code is refused
    in words that reveal nothing the applicant may not see (cer.communities.uniqueness).
    """


class DeclaredPointForm(forms.Form):
    pod = forms.CharField(label=_("POD code"), max_length=20, validators=[validate_pod])
    configuration = forms.ModelChoiceField(
        label=_("primary substation"), queryset=Configuration.objects.none()
    )
    contracted_power_kw = forms.DecimalField(
        label=_("contracted power [kW]"), min_value=Decimal(0), max_digits=10, decimal_places=3
    )
    has_withdrawal = forms.BooleanField(label=_("withdraws energy"), required=False, initial=True)
    has_injection = forms.BooleanField(label=_("injects energy"), required=False)
    address = forms.CharField(label=_("address of the point"), max_length=200, required=False)

    def __init__(self, *args: Any, community: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community = community
        self.user = user or AnonymousUser()
        field = self.fields["configuration"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Configuration.objects.filter(community=community)
        self.fields["pod"].widget.attrs["data-check"] = "pod"

    def clean_pod(self) -> str:
        pod = normalise_code(self.cleaned_data["pod"])
        problem = pod_problem(pod, user=self.user, community=self.community)
        if problem is not None:
            raise problem
        return pod

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("has_withdrawal") or data.get("has_injection")):
            self.add_error("has_withdrawal", _("A connection point withdraws, injects or both."))
        return data

    def as_declared(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "pod": data["pod"],
            "configuration_id": data["configuration"].pk,
            "contracted_power_kw": str(data["contracted_power_kw"]),
            "has_withdrawal": data["has_withdrawal"],
            "has_injection": data["has_injection"],
            "address": data["address"],
        }


class BaseDeclaredPointFormSet(UniqueFieldFormSet):
    unique_field = "pod"
    duplicate_message = _("This POD appears twice.")


DeclaredPointFormSet = forms.formset_factory(
    DeclaredPointForm,
    formset=BaseDeclaredPointFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=20,
)


class ApprovalForm(forms.Form):
    valid_from = forms.DateField(
        label=_("member from"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class EndMembershipForm(forms.Form):
    valid_to = forms.DateField(
        label=_("first day no longer a member"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


# The person's data and the memberships' IBANs ------------------------------------------

# What the person keeps up to date themself; identity (kind, tax code) is fixed.
PERSONAL_DATA_FIELDS = [
    "first_name",
    "last_name",
    "company_name",
    "email",
    "pec",
    "phone",
    "address",
    "municipality",
]


def iban_field(**options: Any) -> forms.CharField:
    field = forms.CharField(
        label=_("IBAN for payouts"), max_length=34, required=False, validators=[validate_iban]
    )
    for name, value in options.items():
        setattr(field, name, value)
    field.widget.attrs["data-check"] = "iban"
    return field


class PersonalDataForm(forms.ModelForm):
    """Name, contact data and address of a person: shared by all their communities.

    With `locked`, a change to any of them is refused naming the field: the person
    belongs to a community the actor does not manage.
    """

    municipality = MunicipalityField(label=_("municipality"))

    class Meta:
        model = Member
        fields = PERSONAL_DATA_FIELDS

    def __init__(self, *args: Any, locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locked = locked
        self.original = {name: getattr(self.instance, name) for name in PERSONAL_DATA_FIELDS}
        # A number stored before it was normalised is the same number in E.164.
        self.original["phone"] = normalised_or_kept(self.original["phone"])
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["pec"].widget.attrs["data-check"] = "pec"
        if locked:
            for name in PERSONAL_DATA_FIELDS:
                self.fields[name].widget.attrs["readonly"] = True
                self.fields[name].help_text = SHARED_REFUSAL

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.locked:
            for name in self.changed_fields(cleaned):
                self.add_error(name, SHARED_REFUSAL)
        return cleaned

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone"))

    def changed_fields(self, cleaned: dict[str, Any] | None = None) -> list[str]:
        """The fields whose cleaned value differs from the record's."""
        data = self.cleaned_data if cleaned is None else cleaned
        return [
            name
            for name in PERSONAL_DATA_FIELDS
            if name in data and data[name] != self.original[name]
        ]

    def changes(self) -> dict[str, list[Any]]:
        return {
            name: [self.original[name], self.cleaned_data[name]] for name in self.changed_fields()
        }


class MembershipIbanForm(forms.Form):
    """The IBAN a community pays one membership to."""

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"iban": membership.iban})
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.fields["iban"] = iban_field(
            label=_("IBAN for payouts from %(community)s")
            % {"community": membership.community.name}
        )

    def clean_iban(self) -> str:
        return normalise_code(self.cleaned_data.get("iban") or "")

    def has_new_iban(self) -> bool:
        return self.cleaned_data["iban"] != self.membership.iban
