"""Direct-debit batches: open requests with a mandate, in one pain.008.001.02 file.

    DRAFT --first download--> ISSUED --every debit paid or returned--> COMPLETED
    DRAFT or ISSUED --confirmed, audited, with a reason--> VOID (its requests open again)
    VOID --re-issue--> a new batch of the same requests, new MsgId and EndToEndIds

The requested collection date must leave the debtors the pre-notification lead time (the
community's setting, 14 calendar days by default: SEPA Core rulebook, PT-04.03) and be a
TARGET2 business day. Each debtor is pre-notified by e-mail when the batch is prepared. A
request of a member without a live mandate is refused, naming the member; a mandate not
used for 36 months has expired (rulebook, PT-04.16) and is refused too. The file is
validated against its XSD and its totals against the requests before it is stored, and
again before each download (cer/collections/sepa.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.billing import target2
from cer.collections import notices, sepa
from cer.collections.errors import CollectionError
from cer.collections.mandates import live_mandates, settings_of
from cer.collections.models import (
    COLLECTABLE_STATES,
    BatchStatus,
    CollectionBatch,
    CollectionItem,
    ItemStatus,
    Mandate,
    PaymentRequest,
    RequestState,
    Sequence,
)
from cer.communities.models import Community
from cer.core import formatting
from cer.core.validators import normalise_code

ROME = ZoneInfo("Europe/Rome")
MANDATE_EXPIRY_MONTHS = 36


def local_today(now: dt.datetime) -> dt.date:
    return now.astimezone(ROME).date()


def earliest_collection_date(community: Community, now: dt.datetime) -> dt.date:
    """The first TARGET2 business day the lead time allows (pre-notified today)."""
    lead = settings_of(community).prenotification_days
    day = local_today(now) + dt.timedelta(days=lead)
    return day if target2.is_business_day(day) else target2.next_business_day(day)


def check_collection_date(community: Community, day: dt.date | None, now: dt.datetime) -> dt.date:
    """Refuse a collection date before the lead time or on a TARGET2 closing day."""
    earliest = earliest_collection_date(community, now)
    if day is None:
        return earliest
    if day < earliest:
        raise CollectionError(
            _(
                "%(date)s leaves the debtors less than the pre-notification lead time of "
                "%(days)s days: choose %(earliest)s or later."
            )
            % {
                "date": formatting.day(day),
                "days": settings_of(community).prenotification_days,
                "earliest": formatting.day(earliest),
            },
            field="collection_date",
        )
    if not target2.is_business_day(day):
        raise CollectionError(
            _("%(date)s is not a TARGET2 business day: choose %(next)s or another working day.")
            % {"date": formatting.day(day), "next": formatting.day(target2.next_business_day(day))},
            field="collection_date",
        )
    return day


@dataclass(frozen=True)
class PlannedDebit:
    request: PaymentRequest
    mandate: Mandate | None
    problem: str


@dataclass(frozen=True)
class BatchPlan:
    debits: list[PlannedDebit]

    @property
    def ready(self) -> list[PlannedDebit]:
        return [d for d in self.debits if not d.problem]

    @property
    def total_eur(self) -> Decimal:
        return sum((d.request.amount_eur for d in self.ready), Decimal("0.00"))


def _expired(mandate: Mandate, day: dt.date) -> bool:
    last = mandate.last_collection_date
    if last is None:
        return False
    months = (day.year - last.year) * 12 + day.month - last.month
    return months > MANDATE_EXPIRY_MONTHS or (
        months == MANDATE_EXPIRY_MONTHS and day.day >= last.day
    )


def plan(*, community: Community, request_ids: list[int] | None = None, day: dt.date) -> BatchPlan:
    """Return the collectable requests (all, or those named) and why any cannot be debited."""
    wanted = PaymentRequest.objects.filter(community=community).select_related("member")
    if request_ids is not None:
        wanted = wanted.filter(pk__in=request_ids)
    else:
        wanted = wanted.filter(state__in=COLLECTABLE_STATES)
    requests = list(wanted.order_by("member_id", "pk"))
    mandates = live_mandates(community.pk, [r.member_id for r in requests])
    debits = []
    for request in requests:
        mandate = mandates.get(request.member_id)
        problem = ""
        if request.state not in COLLECTABLE_STATES:
            problem = _("the request is %(state)s") % {"state": request.get_state_display().lower()}
        elif mandate is None:
            problem = _("%(member)s has no SEPA mandate") % {"member": request.member.display_name}
        elif _expired(mandate, day):
            problem = _("the mandate %(reference)s expired (unused for 36 months)") % {
                "reference": mandate.reference
            }
        debits.append(PlannedDebit(request, mandate, problem))
    return BatchPlan(debits)


def create_batch(
    *,
    community: Community,
    collection_date: dt.date | None,
    request_ids: list[int] | None = None,
    actor: Any,
    now: dt.datetime,
    replaces: CollectionBatch | None = None,
) -> CollectionBatch:
    """Prepare a draft batch and its pain.008 file, and pre-notify each debtor.

    `request_ids` names the requests to collect (default: every open or returned request
    whose member has a live mandate). A named request that cannot be debited (no mandate,
    an expired one, not open) refuses the whole batch, naming the member. Nothing is
    stored when the file does not validate. Raises CollectionError.
    """
    settings = settings_of(community)
    if not settings.creditor_id or not settings.creditor_iban:
        raise CollectionError(
            _("set the community's SEPA creditor identifier and account first"),
            field="creditor_id",
        )
    day = check_collection_date(community, collection_date, now)
    batch_plan = plan(community=community, request_ids=request_ids, day=day)
    if request_ids is not None:
        refused = [d for d in batch_plan.debits if d.problem]
        if refused:
            raise CollectionError(
                "; ".join(
                    f"{d.request.reference} ({d.request.member.display_name}): {d.problem}"
                    for d in refused
                ),
                field="requests",
            )
    if not batch_plan.ready:
        raise CollectionError(
            _("no open request of a member with a SEPA mandate to collect"), field="requests"
        )
    try:
        with transaction.atomic():
            batch = _store(community, settings, day, batch_plan, actor, now, replaces)
    except IntegrityError as error:
        raise CollectionError(
            _("a request of this batch was put in another batch meanwhile: try again"),
            field="requests",
        ) from error
    notices.prenotify(batch, now=now)
    return batch


def _store(
    community: Community,
    settings: Any,
    day: dt.date,
    batch_plan: BatchPlan,
    actor: Any,
    now: dt.datetime,
    replaces: CollectionBatch | None,
) -> CollectionBatch:
    ready = batch_plan.ready
    locked = {
        m.pk: m
        for m in Mandate.objects.select_for_update().filter(
            pk__in=[d.mandate.pk for d in ready if d.mandate is not None]
        )
    }
    batch = CollectionBatch.objects.create(
        community=community,
        creditor_id=settings.creditor_id,
        creditor_name=settings.creditor_name or community.name[:70],
        creditor_iban=settings.creditor_iban,
        creditor_bic=settings.creditor_bic,
        collection_date=day,
        total_eur=batch_plan.total_eur,
        count=len(ready),
        message_id=f"NEW-{now:%Y%m%d%H%M%S%f}"[:35],
        xml="",
        replaces=replaces,
        created_at=now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    items = []
    for number, debit in enumerate(ready, start=1):
        assert debit.mandate is not None
        mandate = locked[debit.mandate.pk]
        items.append(
            CollectionItem(
                batch=batch,
                request=debit.request,
                mandate=mandate,
                name=mandate.debtor_name[:70],
                iban=normalise_code(mandate.iban),
                amount_eur=debit.request.amount_eur,
                sequence=mandate.next_sequence,
                # New for every batch (its primary key and a counter): a re-issue never
                # sends the bank an id it has seen.
                end_to_end_id=f"CERD{batch.pk}-{number}",
            )
        )
    batch.xml = sepa.pain008(
        message_id=f"CERD{batch.pk}-{now:%y%m%d%H%M%S}",
        creditor_name=batch.creditor_name,
        creditor_iban=batch.creditor_iban,
        creditor_bic=batch.creditor_bic,
        creditor_id=batch.creditor_id,
        collection_date=day,
        debits=[
            sepa.Debit(
                name=item.name,
                iban=item.iban,
                bic=item.mandate.bic,
                amount_eur=item.amount_eur,
                sequence=item.sequence,
                mandate_reference=item.mandate.reference,
                mandate_signed_date=item.mandate.signed_date,
                description=f"{item.request.description} {item.request.reference}",
                end_to_end_id=item.end_to_end_id,
            )
            for item in items
        ],
    )
    batch.message_id = sepa.read_totals(batch.xml).message_id
    batch.save(update_fields=["xml", "message_id"])
    CollectionItem.objects.bulk_create(items)
    for item in items:
        # The first collection is in a file: the mandate's next one is recurrent.
        item.mandate.next_sequence = Sequence.RECURRENT
        item.mandate.last_collection_date = day
        item.mandate.save(update_fields=["next_sequence", "last_collection_date"])
    PaymentRequest.objects.filter(pk__in=[i.request_id for i in items]).update(
        state=RequestState.IN_BATCH, reason_code="", reason=""
    )
    record(
        actor=actor,
        code="collections.batch.created",
        now=now,
        target=batch,
        community=community,
        changes={
            "message_id": batch.message_id,
            "total_eur": str(batch.total_eur),
            "count": batch.count,
            "collection_date": day.isoformat(),
            "replaces": replaces.message_id if replaces else "",
            "skipped": [
                {"request": d.request.reference, "problem": str(d.problem)}
                for d in batch_plan.debits
                if d.problem
            ],
        },
    )
    return batch


def batch_file(*, batch: CollectionBatch, actor: Any, now: dt.datetime) -> str:
    """Return the batch's pain.008 file, checked again; the first download issues it.

    Raises CollectionError for a voided batch or a file whose schema or totals no longer
    match the batch's debits (the file is then not offered).
    """
    with transaction.atomic():
        locked = CollectionBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == BatchStatus.VOID:
            raise CollectionError(_("this batch was voided: its file must not be sent"))
        items = list(locked.items.all())
        sepa.check_file(
            locked.xml,
            count=len(items),
            total_eur=sum((i.amount_eur for i in items), Decimal("0.00")),
            end_to_end_ids={i.end_to_end_id for i in items},
        )
        if locked.status == BatchStatus.DRAFT:
            locked.status = BatchStatus.ISSUED
            locked.issued_at = now
            locked.save(update_fields=["status", "issued_at"])
            _audit(locked, actor, now, "collections.batch.issued", {})
        _audit(locked, actor, now, "collections.batch.downloaded", {})
    batch.status, batch.issued_at = locked.status, locked.issued_at
    return locked.xml


def _audit(
    batch: CollectionBatch, actor: Any, now: dt.datetime, code: str, extra: dict[str, Any]
) -> None:
    record(
        actor=actor,
        code=code,
        now=now,
        target=batch,
        community=batch.community,
        changes={
            "message_id": batch.message_id,
            "total_eur": str(batch.total_eur),
            "count": batch.count,
            "status": batch.status,
            **extra,
        },
    )


def void_batch(
    *, batch: CollectionBatch, reason: str, actor: Any, now: dt.datetime
) -> CollectionBatch:
    """Void a batch whose debits the bank has not reported: its requests open again.

    A mandate whose first collection was in the batch goes back to FRST. Raises
    CollectionError without a reason, or when a debit of the batch was already reported.
    """
    if not reason.strip():
        raise CollectionError(_("say why the batch is voided"), field="reason")
    with transaction.atomic():
        locked = CollectionBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status not in (BatchStatus.DRAFT, BatchStatus.ISSUED):
            raise CollectionError(
                _("a batch that is %(status)s cannot be voided")
                % {"status": locked.get_status_display().lower()},
                field="reason",
            )
        items = list(locked.items.select_related("mandate", "request"))
        if any(i.status != ItemStatus.PENDING for i in items):
            raise CollectionError(
                _("the bank already reported debits of this batch: it cannot be voided"),
                field="reason",
            )
        for item in items:
            item.released_at = now
            item.save(update_fields=["released_at"])
            if item.sequence == Sequence.FIRST:
                item.mandate.next_sequence = Sequence.FIRST
                item.mandate.save(update_fields=["next_sequence"])
        PaymentRequest.objects.filter(
            pk__in=[i.request_id for i in items], state=RequestState.IN_BATCH
        ).update(state=RequestState.OPEN)
        before = locked.status
        locked.status = BatchStatus.VOID
        locked.voided_at = now
        locked.void_reason = reason.strip()[:300]
        locked.save(update_fields=["status", "voided_at", "void_reason"])
        _audit(locked, actor, now, "collections.batch.voided", {"from": before, "reason": reason})
    return locked


def reissue_batch(
    *,
    batch: CollectionBatch,
    reason: str,
    collection_date: dt.date | None,
    actor: Any,
    now: dt.datetime,
) -> CollectionBatch:
    """Void a batch and prepare a new one of the same requests (new MsgId, EndToEndIds)."""
    request_ids = list(batch.items.values_list("request_id", flat=True))
    with transaction.atomic():
        voided = void_batch(batch=batch, reason=reason, actor=actor, now=now)
        return create_batch(
            community=voided.community,
            collection_date=collection_date,
            request_ids=request_ids,
            actor=actor,
            now=now,
            replaces=voided,
        )
