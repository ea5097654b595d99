"""The constitution wizard's state: which step, what was typed, and what it amounts to.

A draft keeps, for each step, the data as typed (never cleaned values), so a person finds
their input again exactly, errors included. Every step is re-validated from that data
whenever it is needed, and `plan` turns a fully valid draft into unsaved objects for
`services.constitute_community`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from cer.communities.models import (
    Community,
    Configuration,
    ConstitutionDraft,
    IncentiveDistribution,
)
from cer.communities.zones import region_of_municipality
from cer.constitution import checklist
from cer.constitution.forms import (
    CommunityForm,
    ConfigurationFormSet,
    DistributionForm,
    FoundingMemberForm,
    FoundingMemberFormSet,
    PointFormSet,
    ReviewForm,
)
from cer.members.models import Member
from cer.plants.models import ConnectionPoint, Plant

STEPS = ("kind", "members", "configurations", "points", "distribution", "review")
STEP_TITLES = {
    "kind": _("Type and legal form"),
    "members": _("Founding members"),
    "configurations": _("Primary substations"),
    "points": _("Connection points and plants"),
    "distribution": _("Distribution of incentives"),
    "review": _("Checklist and documents"),
}


class StepForms:
    """The forms and formsets of one step, validated together."""

    def __init__(self, forms: dict[str, Any]) -> None:
        self.forms = {name: form for name, form in forms.items() if form is not None}

    def __getitem__(self, name: str) -> Any:
        return self.forms[name]

    def get(self, name: str) -> Any:
        return self.forms.get(name)

    def is_valid(self) -> bool:
        results = [form.is_valid() for form in self.forms.values()]
        return all(results)

    @property
    def is_bound(self) -> bool:
        return any(form.is_bound for form in self.forms.values())


@dataclass
class PlannedPoint:
    point: ConnectionPoint
    holder_code: str
    primary_substation: str
    plant: Plant | None = None


@dataclass
class ConstitutionPlan:
    """Unsaved objects of a complete draft, ready to be saved in one transaction."""

    community: Community
    creator: Member
    other_members: list[Member]
    configurations: list[Configuration]
    points: list[PlannedPoint]
    distribution: IncentiveDistribution
    document_kinds: list[str] = field(default_factory=list)
    requirements: list[checklist.Requirement] = field(default_factory=list)


def raw_from_post(post: QueryDict) -> dict[str, list[str]]:
    """Return what was typed, as lists of strings, without the CSRF token or the action."""
    return {key: post.getlist(key) for key in post if key not in {"csrfmiddlewaretoken", "action"}}


class Wizard:
    def __init__(self, draft: ConstitutionDraft, *, user: Any, today: dt.date) -> None:
        self.draft = draft
        self.user = user
        self.today = today
        self.existing_member = Member.objects.filter(user_id=user.pk).first()
        self._stored: dict[str, StepForms] = {}

    # What was typed -------------------------------------------------------------------

    def raw(self, step: str) -> MultiValueDict | None:
        entry = self.draft.data.get(step)
        if not entry:
            return None
        return MultiValueDict(entry.get("raw", {}))

    def store(self, step: str, post: QueryDict, *, valid: bool, now: dt.datetime) -> None:
        self.draft.data[step] = {"raw": raw_from_post(post), "valid": valid}
        self.draft.step = step
        self.draft.updated_at = now
        self.draft.save(update_fields=["data", "step", "updated_at"])
        self._stored.clear()

    def add_row(self, step: str, post: QueryDict, *, prefix: str, now: dt.datetime) -> None:
        data = post.copy()
        key = f"{prefix}-TOTAL_FORMS"
        data[key] = str(int(data.get(key) or 0) + 1)
        self.store(step, data, valid=False, now=now)

    # Forms -----------------------------------------------------------------------------

    def forms_for(self, step: str, data: Any = None) -> StepForms:
        """Return the step's forms bound to `data`, or else to the draft, or unbound."""
        if data is None:
            data = self.raw(step)
        if step == "kind":
            return StepForms({"community": CommunityForm(data, prefix="c", user=self.user)})
        if step == "members":
            me = None
            if self.existing_member is None:
                me = FoundingMemberForm(
                    data,
                    prefix="me",
                    user=self.user,
                    initial={
                        "kind": "NATURAL",
                        "category": "HOUSEHOLD",
                        "first_name": self.user.first_name,
                        "last_name": self.user.last_name,
                        "email": self.user.email,
                    },
                )
            taken = (self.existing_member.fiscal_code,) if self.existing_member else ()
            others = FoundingMemberFormSet(
                data,
                prefix="others",
                taken_codes=taken,  # type: ignore[call-arg]
                form_kwargs={"user": self.user},
            )
            return StepForms({"me": me, "others": others})
        if step == "configurations":
            return StepForms({"configurations": ConfigurationFormSet(data, prefix="cfg")})
        if step == "points":
            points = PointFormSet(
                data,
                prefix="pt",
                form_kwargs={
                    "holders": self.holders(),
                    "substations": self.substations(),
                    "today": self.today,
                    "user": self.user,
                },
            )
            return StepForms({"points": points})
        if step == "distribution":
            initial = {
                "model": "WITHDRAWAL_SHARE",
                "producers_pct": 20,
                "consumers_pct": 70,
                "community_fund_pct": 10,
            }
            return StepForms({"distribution": DistributionForm(data, prefix="d", initial=initial)})
        if step == "review":
            return StepForms({"review": ReviewForm(data, prefix="r")})
        raise KeyError(step)

    def stored(self, step: str) -> StepForms:
        if step not in self._stored:
            self._stored[step] = self.forms_for(step)
        return self._stored[step]

    def is_complete(self, step: str) -> bool:
        forms = self.stored(step)
        return forms.is_bound and forms.is_valid()

    def first_incomplete(self, *, before: str | None = None) -> str | None:
        """Return the first step (before `before`, if given) whose data are missing or wrong."""
        for step in STEPS:
            if step == before:
                return None
            if step != "review" and not self.is_complete(step):
                return step
        return None

    # Derived lists ---------------------------------------------------------------------

    def _members_cleaned(self) -> list[dict[str, Any]]:
        if not self.is_complete("members"):
            return []
        forms = self.stored("members")
        rows = []
        if forms.get("me") is not None:
            rows.append({**forms["me"].cleaned_data, "is_creator": True})
        for form in forms["others"].forms:
            if form.cleaned_data:
                rows.append({**form.cleaned_data, "is_creator": False})
        return rows

    def holders(self) -> list[tuple[str, str]]:
        choices: list[tuple[str, str]] = []
        if self.existing_member is not None:
            choices.append(
                (self.existing_member.fiscal_code, f"{self.existing_member.display_name}")
            )
        for row in self._members_cleaned():
            choices.append((row["fiscal_code"], _display_name(row)))
        return choices

    def substations(self) -> list[tuple[str, str]]:
        if not self.is_complete("configurations"):
            return []
        return [
            (form.cleaned_data["primary_substation"], str(form.cleaned_data["name"]))
            for form in self.stored("configurations")["configurations"].forms
            if form.cleaned_data
        ]

    # The checklist ---------------------------------------------------------------------

    def facts(self) -> checklist.ConstitutionFacts:
        kind = legal_form = ""
        if self.is_complete("kind"):
            data = self.stored("kind")["community"].cleaned_data
            kind, legal_form = data["kind"], data["legal_form"]
        members = [
            checklist.MemberFacts(
                name=_display_name(row),
                category=row["category"],
                municipality_code=row["municipality"].pk,
                municipality_name=str(row["municipality"]),
                region=region_of_municipality(row["municipality"].region),
                fiscal_code=row["fiscal_code"],
            )
            for row in self._members_cleaned()
        ]
        if self.existing_member is not None:
            member = self.existing_member
            members.insert(
                0,
                checklist.MemberFacts(
                    name=member.display_name,
                    category=member.category,
                    municipality_code=member.municipality_id,
                    municipality_name=str(member.municipality),
                    region=region_of_municipality(member.municipality.region),
                    fiscal_code=member.fiscal_code,
                ),
            )
        points: list[checklist.PointFacts] = []
        plants: list[checklist.PlantFacts] = []
        if self.is_complete("points"):
            for form in self.stored("points")["points"].forms:
                data = form.cleaned_data
                if not data:
                    continue
                points.append(
                    checklist.PointFacts(
                        pod=data["pod"],
                        holder=data["holder"],
                        primary_substation=data["primary_substation"],
                        has_withdrawal=data["has_withdrawal"],
                        has_injection=data["has_injection"],
                        building=data.get("building", ""),
                    )
                )
                if form.has_plant:
                    plants.append(
                        checklist.PlantFacts(
                            name=data["plant_name"],
                            power_kw=data["plant_power_kw"],
                            entry_into_service_date=data["plant_entry_into_service_date"],
                            municipality_code=data["plant_municipality"].pk,
                            municipality_name=str(data["plant_municipality"]),
                            region=region_of_municipality(data["plant_municipality"].region),
                            primary_substation=data["primary_substation"],
                        )
                    )
        return checklist.ConstitutionFacts(
            kind=kind,
            legal_form=legal_form,
            members=members,
            primary_substations=[code for code, _name in self.substations()],
            points=points,
            plants=plants,
            configurations=self._configuration_facts(),
        )

    def _configuration_facts(self) -> list[checklist.ConfigurationFacts]:
        if not self.is_complete("configurations"):
            return []
        return [
            checklist.ConfigurationFacts(
                name=str(form.cleaned_data["name"]),
                primary_substation=form.cleaned_data["primary_substation"],
                region=form.cleaned_data["region"],
                market_zone=form.cleaned_data["market_zone"],
            )
            for form in self.stored("configurations")["configurations"].forms
            if form.cleaned_data
        ]

    def requirements(self) -> list[checklist.Requirement]:
        return checklist.evaluate(self.facts())

    # The plan --------------------------------------------------------------------------

    def plan(self, review: StepForms) -> ConstitutionPlan:
        """Return the unsaved objects of a complete draft (call only when nothing is missing)."""
        community = self.stored("kind")["community"].save(commit=False)
        creator = self.existing_member
        others: list[Member] = []
        forms = self.stored("members")
        if forms.get("me") is not None:
            creator = forms["me"].save(commit=False)
        for form in forms["others"].forms:
            if form.cleaned_data:
                others.append(form.save(commit=False))
        assert creator is not None
        configurations = [
            form.save(commit=False)
            for form in self.stored("configurations")["configurations"].forms
            if form.cleaned_data
        ]
        planned: list[PlannedPoint] = []
        for form in self.stored("points")["points"].forms:
            data = form.cleaned_data
            if not data:
                continue
            address = data.get("building", "")
            point = ConnectionPoint(
                pod=data["pod"],
                contracted_power_kw=data["contracted_power_kw"],
                has_withdrawal=data["has_withdrawal"],
                has_injection=data["has_injection"],
                address=address,
            )
            plant = None
            if form.has_plant:
                # The plant stands where its municipality is, under its point's substation:
                # its region (and so its regional correction) comes from the municipality.
                plant = Plant(
                    name=data["plant_name"],
                    source=data["plant_source"],
                    power_kw=data["plant_power_kw"],
                    entry_into_service_date=data["plant_entry_into_service_date"],
                    municipality=data["plant_municipality"],
                    primary_substation=data["primary_substation"],
                )
                if not point.address:
                    point.address = str(data["plant_municipality"])
            planned.append(
                PlannedPoint(
                    point=point,
                    holder_code=data["holder"],
                    primary_substation=data["primary_substation"],
                    plant=plant,
                )
            )
        kinds = []
        if review["review"].cleaned_data.get("draft_statute"):
            kinds.append("STATUTE")
        if review["review"].cleaned_data.get("draft_regulation"):
            kinds.append("REGULATION")
        return ConstitutionPlan(
            community=community,
            creator=creator,
            other_members=others,
            configurations=configurations,
            points=planned,
            distribution=self.stored("distribution")["distribution"].save(commit=False),
            document_kinds=kinds,
            requirements=self.requirements(),
        )


def _display_name(row: dict[str, Any]) -> str:
    if row.get("kind") == "LEGAL":
        return str(row.get("company_name", ""))
    return f"{row.get('first_name', '')} {row.get('last_name', '')}".strip()
