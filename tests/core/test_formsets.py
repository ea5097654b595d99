"""The duplicate-row rule shared by the wizard's and the onboarding's formsets."""

from __future__ import annotations

from django import forms

from cer.constitution.forms import ConfigurationFormSet
from cer.core.formsets import UniqueFieldFormSet


def _management(prefix: str, total: int) -> dict[str, str]:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0"}


def test_a_repeated_primary_substation_is_named_on_the_repeating_row():
    data = _management("form", 2)
    for row in (0, 1):
        data.update(
            {
                f"form-{row}-name": f"Cabina {row}",
                f"form-{row}-primary_substation": "ac001e03061",
                f"form-{row}-market_zone": "NORD",
                f"form-{row}-region": "VENETO",
            }
        )

    formset = ConfigurationFormSet(data)

    assert not formset.is_valid()
    assert "primary_substation" not in formset.forms[0].errors
    assert formset.forms[1].errors["primary_substation"] == [
        "Ogni cabina primaria corrisponde a una sola configurazione."
    ]


class _PodForm(forms.Form):
    pod = forms.CharField()


class _PodFormSet(UniqueFieldFormSet):
    unique_field = "pod"
    duplicate_message = "twice"


def test_only_the_repeats_of_a_value_are_refused():
    values = ["IT001E1", "IT001E2", "IT001E1", "IT001E1"]
    data = {"form-TOTAL_FORMS": "4", "form-INITIAL_FORMS": "0"}
    data.update({f"form-{row}-pod": value for row, value in enumerate(values)})

    formset = forms.formset_factory(_PodForm, formset=_PodFormSet)(data)

    assert not formset.is_valid()
    assert [form.errors.get("pod") for form in formset.forms] == [None, None, ["twice"], ["twice"]]
