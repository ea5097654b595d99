"""The PNRR grant file's workflows: the application and its states, the decision that sets
the plant's grant share, the disbursement phases and their documents, other public grants.

Web pages call these (and any future API endpoint must too). Each write is atomic and
audited with a `grants.*` code; bad input raises GrantError naming the field and the rule,
and nothing is stored. The arithmetic is cercalc.pnrr's.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.core import formatting
from cer.documents.services import UploadRefused, check_upload
from cer.grants import checks
from cer.grants.models import (
    ApplicationState,
    CostCategory,
    CostItem,
    GrantApplication,
    OtherGrant,
)
from cer.plants.models import Plant
from cer.plants.services import change_plant
from cercalc import pnrr

logger = logging.getLogger(__name__)

APPLICATION_FIELDS = (
    "applicant",
    "municipality",
    "current_population",
    "population_source",
    "population_date",
    "works_start_date",
    "works_end_date",
    "expected_service_date",
    "requested_grant_eur",
)


class GrantError(Exception):
    """Input the rules refuse: `errors` maps each field to the sentences that explain why."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(m)}" for field, m in errors.items()))
        self.errors = dict(errors)


def refuse(field: str, message: str) -> GrantError:
    return GrantError({field: [message]})


def parse_amount(value: Any, field: str, *, required: bool = True) -> Decimal | None:
    """Return an amount [EUR] with at most two decimals, not negative, or raise GrantError."""
    if value in (None, ""):
        if required:
            raise refuse(field, _("An amount is required."))
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise refuse(field, _("“%(value)s” is not an amount.") % {"value": value}) from None
    if not amount.is_finite():
        raise refuse(field, _("“%(value)s” is not an amount.") % {"value": value})
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise refuse(field, _("An amount in euro has at most two decimals (cents)."))
    if amount < 0:
        raise refuse(field, _("The amount cannot be negative."))
    return amount.quantize(Decimal("0.01"))


def checked_file(upload: UploadedFile, field: str) -> ContentFile:
    """Return an uploaded file's content under its sniffed extension, or raise GrantError.

    The documents app's check applies (size, archive limits, PDF, DOCX, ODT, PNG, JPEG).
    """
    try:
        content, file_type = check_upload(upload)
    except UploadRefused as refusal:
        raise refuse(field, str(refusal.message)) from None
    return ContentFile(content, name=f"upload.{file_type.extension}")


def local_day(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def audit(actor: Any, code: str, now: dt.datetime, target: Any, changes: dict[str, Any]) -> None:
    application = target if isinstance(target, GrantApplication) else None
    if application is None:
        application = getattr(target, "application", None) or target.request.application
    record(
        actor=actor,
        code=code,
        now=now,
        target=target,
        community=application.community,
        changes=changes,
    )


def _editable(application: GrantApplication) -> None:
    if not application.editable:
        raise refuse(
            "state",
            _("The application is %(state)s: its data can no longer change.")
            % {"state": application.get_state_display()},
        )


# The application ---------------------------------------------------------------------------


def open_application(*, plant: Plant, actor: Any, now: dt.datetime) -> GrantApplication:
    """Open the plant's PNRR file in DRAFT, with the plant's municipality.

    Raises GrantError when the plant already has one.
    """
    if GrantApplication.objects.filter(plant=plant).exists():
        raise refuse("plant", _("This plant already has a PNRR application."))
    with transaction.atomic():
        application = GrantApplication.objects.create(
            plant=plant, municipality=plant.municipality, created_at=now
        )
        audit(actor, "grants.application.opened", now, application, {"plant": plant.pk})
    return application


def change_application(
    *, application: GrantApplication, values: Mapping[str, Any], actor: Any, now: dt.datetime
) -> GrantApplication:
    """Save new values of the file's fields; a READY file goes back to DRAFT.

    `values` maps fields of APPLICATION_FIELDS to values already typed (dates, Municipality,
    int); amounts may be text. Raises GrantError for a file past READY or a bad amount.
    """
    _editable(application)
    unknown = set(values) - set(APPLICATION_FIELDS)
    if unknown:
        raise refuse(sorted(unknown)[0], _("This field is not part of the application."))
    cleaned = dict(values)
    if "requested_grant_eur" in cleaned:
        cleaned["requested_grant_eur"] = parse_amount(
            cleaned["requested_grant_eur"], "requested_grant_eur", required=False
        )
    changed = {
        name: [str(getattr(application, name)), str(value)]
        for name, value in cleaned.items()
        if getattr(application, name) != value
    }
    if not changed:
        return application
    with transaction.atomic():
        for name, value in cleaned.items():
            setattr(application, name, value)
        fields = list(cleaned)
        if application.state == ApplicationState.READY:
            application.state = ApplicationState.DRAFT
            fields.append("state")
            changed["state"] = [ApplicationState.READY, ApplicationState.DRAFT]
        application.save(update_fields=fields)
        audit(actor, "grants.application.changed", now, application, changed)
    return application


def add_cost_item(
    *,
    application: GrantApplication,
    category: str,
    description: str,
    amount_eur: Any,
    claimed: bool = True,
    actor: Any,
    now: dt.datetime,
) -> CostItem:
    """Add a cost item to a file still in DRAFT or READY (READY goes back to DRAFT).

    Raises GrantError for an unknown category, an empty description or a bad amount.
    """
    _editable(application)
    if category not in CostCategory.values:
        raise refuse("category", _("Choose one of the listed categories."))
    if not description.strip():
        raise refuse("description", _("Describe the cost."))
    amount = parse_amount(amount_eur, "amount_eur")
    with transaction.atomic():
        item = CostItem.objects.create(
            application=application,
            category=category,
            description=description.strip(),
            amount_eur=amount,
            claimed=claimed,
        )
        _back_to_draft(application)
        audit(
            actor,
            "grants.cost_item.added",
            now,
            item,
            {"category": category, "amount_eur": str(amount), "claimed": claimed},
        )
    return item


def remove_cost_item(*, item: CostItem, actor: Any, now: dt.datetime) -> None:
    """Remove a cost item from a file still in DRAFT or READY.

    Raises GrantError when an expense document or another grant relies on it.
    """
    application = item.application
    _editable(application)
    if item.documents.exists() or item.other_grants.exists():
        raise refuse("cost_items", _("A document or another grant relies on this cost item."))
    with transaction.atomic():
        audit(
            actor,
            "grants.cost_item.removed",
            now,
            item,
            {"description": item.description, "amount_eur": str(item.amount_eur)},
        )
        item.delete()
        _back_to_draft(application)


def _back_to_draft(application: GrantApplication) -> None:
    if application.state == ApplicationState.READY:
        application.state = ApplicationState.DRAFT
        application.save(update_fields=["state"])


def mark_ready(*, application: GrantApplication, actor: Any, now: dt.datetime) -> list[Any]:
    """Run every check; with no blocking failure, move the file from DRAFT to READY.

    Returns the checks. Raises GrantError naming each failing field and its rule.
    """
    if application.state != ApplicationState.DRAFT:
        raise refuse("state", _("Only a draft can be made ready to submit."))
    results = checks.check_application(application, today=local_day(now))
    failures = checks.blocking_failures(results)
    if failures:
        errors: dict[str, list[str]] = {}
        for failure in failures:
            errors.setdefault(failure.field, []).append(f"{failure.rule}: {failure.message}")
        raise GrantError(errors)
    with transaction.atomic():
        application.state = ApplicationState.READY
        application.save(update_fields=["state"])
        audit(
            actor,
            "grants.application.ready",
            now,
            application,
            {"state": [ApplicationState.DRAFT, ApplicationState.READY]},
        )
    return results


def submit(
    *, application: GrantApplication, gse_reference: str, actor: Any, now: dt.datetime
) -> GrantApplication:
    """Record that the READY file was submitted on the GSE portal (irreversible).

    Raises GrantError when the file is not READY or its checks fail again.
    """
    if application.state != ApplicationState.READY:
        raise refuse("state", _("Only a file ready to submit can be submitted."))
    if checks.blocking_failures(checks.check_application(application, today=local_day(now))):
        raise refuse("state", _("The checks fail again: make the file ready once more."))
    with transaction.atomic():
        application.state = ApplicationState.SUBMITTED
        application.submitted_at = now
        application.gse_reference = gse_reference.strip()
        application.save(update_fields=["state", "submitted_at", "gse_reference"])
        audit(
            actor,
            "grants.application.submitted",
            now,
            application,
            {
                "state": [ApplicationState.READY, ApplicationState.SUBMITTED],
                "gse_reference": application.gse_reference,
                "requested_grant_eur": str(application.requested_grant_eur),
            },
        )
    return application


def grant_share_of(application: GrantApplication, granted_eur: Decimal, today: dt.date) -> Decimal:
    """Return the plant's grant share [%] for a granted amount, on the base cercalc reads.

    The base is the investment (plant's, else every cost item) or the eligible cost, as the
    parameter f_grant_share_base says (REGULATION.md §4.3 [U]).
    """
    params = checks.parameters()
    base_rule = params.value_on("f_grant_share_base", today, [])
    maximum = checks.maximum_grant(application, today=today, params=params)
    base = application.investment_eur
    if base_rule == "eligible_cost" and maximum is not None:
        base = maximum.eligible_cost_eur
    return pnrr.grant_share_pct(grant_eur=granted_eur, base_eur=base)


def decide(
    *,
    application: GrantApplication,
    granted_eur: Any = None,
    refusal_reason: str = "",
    actor: Any,
    now: dt.datetime,
) -> GrantApplication:
    """Record GSE's decision on a SUBMITTED file (irreversible).

    With `granted_eur` the file is GRANTED and the plant's capital_grant_pct is set through
    cer.plants.services.change_plant, so the next settlement applies the new factor F; without
    it the file is REFUSED with `refusal_reason`. Raises GrantError for a file not SUBMITTED,
    a refusal without reason, or an amount above cercalc's maximum grant.
    """
    if application.state != ApplicationState.SUBMITTED:
        raise refuse("state", _("Only a submitted file receives a decision."))
    amount = parse_amount(granted_eur, "granted_eur", required=False)
    today = local_day(now)
    with transaction.atomic():
        if amount is None:
            if not refusal_reason.strip():
                raise refuse("refusal_reason", _("Say why the grant was refused."))
            application.state = ApplicationState.REFUSED
            application.refusal_reason = refusal_reason.strip()
            new_state = ApplicationState.REFUSED
        else:
            maximum = checks.maximum_grant(application, today=today)
            if maximum is None or amount > maximum.grant_eur or amount == 0:
                raise refuse(
                    "granted_eur",
                    _("The grant is more than cercalc's maximum of %(maximum)s.")
                    % {"maximum": formatting.eur(maximum.grant_eur if maximum else 0)},
                )
            application.state = ApplicationState.GRANTED
            application.granted_eur = amount
            new_state = ApplicationState.GRANTED
        application.decided_at = now
        application.save(update_fields=["state", "refusal_reason", "granted_eur", "decided_at"])
        audit(
            actor,
            f"grants.application.{new_state.lower()}",
            now,
            application,
            {
                "state": [ApplicationState.SUBMITTED, new_state],
                "granted_eur": str(amount) if amount is not None else None,
                "refusal_reason": application.refusal_reason,
            },
        )
        if amount is not None:
            share = grant_share_of(application, amount, today)
            change_plant(
                plant=application.plant,
                values={"capital_grant_pct": share},
                actor=actor,
                now=now,
            )
    logger.info("PNRR file %s decided: %s", application.pk, application.state)
    return application


# Other public grants -------------------------------------------------------------------------


def add_other_grant(
    *,
    plant: Plant,
    source: str,
    amount_eur: Any,
    grant_date: dt.date | None,
    cost_items: Iterable[CostItem] = (),
    covered_description: str = "",
    actor: Any,
    now: dt.datetime,
) -> OtherGrant:
    """Record another public grant on the plant and the cost items it covers.

    No cost is funded twice (REGULATION.md §8 [S]/[U]): a cost item the PNRR application
    claims, or one another grant already covers, is refused, naming the other funding.
    """
    if not source.strip():
        raise refuse("source", _("Name who granted it."))
    if grant_date is None:
        raise refuse("grant_date", _("Give the date of the grant."))
    amount = parse_amount(amount_eur, "amount_eur")
    items = list(cost_items)
    for item in items:
        if item.application.plant_id != plant.pk:
            raise refuse("cost_items", _("A cost item of another plant."))
        if item.claimed:
            raise refuse(
                "cost_items",
                _(
                    "“%(item)s” is claimed in the PNRR application: the same cost cannot be "
                    "funded twice (REGULATION.md §8)."
                )
                % {"item": item.description},
            )
        other = item.other_grants.first()
        if other is not None:
            raise refuse(
                "cost_items",
                _(
                    "“%(item)s” is already covered by %(other)s: the same cost cannot be "
                    "funded twice."
                )
                % {"item": item.description, "other": other},
            )
    with transaction.atomic():
        grant = OtherGrant.objects.create(
            plant=plant,
            source=source.strip(),
            amount_eur=amount,
            grant_date=grant_date,
            covered_description=covered_description.strip(),
        )
        grant.cost_items.set(items)
        record(
            actor=actor,
            code="grants.other_grant.recorded",
            now=now,
            target=grant,
            community=plant.connection_point.configuration.community,
            changes={
                "source": grant.source,
                "amount_eur": str(amount),
                "cost_items": [item.pk for item in items],
            },
        )
    return grant
