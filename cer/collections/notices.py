"""What collections tell people: the pre-notification of a direct debit, a debit returned.

Money topics are mandatory (docs/notifications.md): a member always hears by e-mail that an
amount will be taken from their account, with the amount, the date, the mandate and the
creditor identifier, as the SEPA rulebook's pre-notification asks. Notices leave after the
commit of the step that makes them, and a failed notice never undoes it.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from cer.collections.models import CollectionBatch, CollectionItem
from cer.core import formatting
from cer.members.changes import mask_iban
from cer.members.notices import Written, after_commit, managers_of
from cer.notifications import links, topics
from cer.notifications.services import notify

DEBIT_PRENOTIFIED = topics.register(
    topics.Topic(
        code="collections.debit.prenotified",
        title=_("A direct debit announced"),
        subject=_("Direct debit of {amount} on {date}"),
        body=_(
            "{community} will collect {amount} from your account {iban} on {date} by SEPA "
            "direct debit: {description}. Mandate {mandate}, creditor identifier {creditor}."
        ),
        mandatory=True,
    )
)
DEBIT_RETURNED = topics.register(
    topics.Topic(
        code="collections.debit.returned",
        title=_("A direct debit returned"),
        subject=_("Direct debit of {amount} returned: {code}"),
        body=_(
            "The direct debit of {amount} ({description}, {member}) came back unpaid: "
            "{code} {reason}. The request is open to collect again."
        ),
        mandatory=True,
    )
)


def prenotify(batch: CollectionBatch, *, now: dt.datetime) -> None:
    """Tell each debtor of the batch the amount and date of their debit, after commit."""
    batch_id = batch.pk
    after_commit(lambda: _tell_debtors(batch_id, now), what="a direct-debit batch")


def _tell_debtors(batch_id: int, now: dt.datetime) -> None:
    batch = CollectionBatch.objects.select_related("community").get(pk=batch_id)
    items = batch.items.filter(request__member__user__isnull=False).select_related(
        "request__member__user", "mandate"
    )
    for item in items:
        notify(
            [item.request.member.user],
            DEBIT_PRENOTIFIED.code,
            {
                "amount": item.amount_eur,
                "date": Written(formatting.day, batch.collection_date),
                "iban": mask_iban(item.iban),
                "description": item.request.description,
                "mandate": item.mandate.reference,
                "creditor": batch.creditor_id,
                "community": batch.community.name,
            },
            link=links.site_path("collections:mine"),
            now=now,
            community=batch.community,
            dedupe_key=f"debit:{item.end_to_end_id}",
        )


def returned(item: CollectionItem, *, now: dt.datetime) -> None:
    """Tell the member and the managers that a debit came back unpaid, after commit."""
    item_id = item.pk
    after_commit(lambda: _tell_returned(item_id, now), what="a returned debit")


def _tell_returned(item_id: int, now: dt.datetime) -> None:
    item = CollectionItem.objects.select_related("request__member__user", "batch__community").get(
        pk=item_id
    )
    community = item.batch.community
    users = managers_of(community.pk, now)
    if item.request.member.user is not None:
        users = [item.request.member.user, *users]
    notify(
        users,
        DEBIT_RETURNED.code,
        {
            "amount": item.amount_eur,
            "description": item.request.description,
            "member": item.request.member.display_name,
            "code": item.reason_code,
            "reason": item.reason,
        },
        link=links.site_path("collections:mine"),
        now=now,
        community=community,
        dedupe_key=f"returned:{item.end_to_end_id}",
    )
