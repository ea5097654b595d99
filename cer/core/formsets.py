"""A formset whose rows must differ in one field (a POD, a primary substation)."""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.utils.functional import Promise


class UniqueFieldFormSet(forms.BaseFormSet):
    """Mark every row that repeats `unique_field` of an earlier row with `duplicate_message`.

    Subclasses set both; the first row keeps its value, each repeat gets the error on the
    field itself, so the person sees which row to change.
    """

    unique_field: ClassVar[str]
    duplicate_message: ClassVar[str | Promise]  # a lazy translation, read per request

    def clean(self) -> None:
        seen: set[str] = set()
        for form in self.forms:
            value = getattr(form, "cleaned_data", {}).get(self.unique_field)
            if not value:
                continue
            if value in seen:
                form.add_error(self.unique_field, self.duplicate_message)
            seen.add(value)
