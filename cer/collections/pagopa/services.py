"""pagoPA notices for requests: create and publish a debt position, read back its payment.

Only for a community whose collection settings enable pagoPA (a public body registered
with pagoPA as "ente creditore"). The IUV is built by the organisation (pagoPA's
"auxiliary digit 3" scheme, SANP): the segregation code (two digits, PAGOPA_SEGREGATION_CODE),
a 13-digit number (the notice's primary key, never reused) and two check digits, the
remainder of 3‖segregation‖number divided by 93; the notice number is 3‖IUV (18 digits).
A paid position marks its request paid, on the day (Europe/Rome) pagoPA reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.collections.errors import CollectionError
from cer.collections.mandates import settings_of
from cer.collections.models import (
    COLLECTABLE_STATES,
    NoticeStatus,
    PagoPANotice,
    PaymentRequest,
    RequestState,
)
from cer.collections.pagopa import base
from cer.collections.pagopa.gpd import GpdProvider
from cer.collections.requests import mark_paid
from cer.communities.models import Community
from cer.members.models import PersonKind

ROME = ZoneInfo("Europe/Rome")
_STATUS = {
    base.DRAFT: NoticeStatus.DRAFT,
    base.PUBLISHED: NoticeStatus.PUBLISHED,
    base.PAID: NoticeStatus.PAID,
    base.INVALID: NoticeStatus.INVALID,
}


def default_provider() -> base.PaymentProvider:
    """The GPD adapter configured by PAGOPA_GPD_URL and PAGOPA_GPD_SUBSCRIPTION_KEY."""
    return GpdProvider(
        base_url=settings.PAGOPA_GPD_URL, subscription_key=settings.PAGOPA_GPD_SUBSCRIPTION_KEY
    )


def make_iuv(number: int, segregation_code: str) -> str:
    """Return the 17-digit IUV for auxiliary digit 3: segregation, number, check digits."""
    base_number = f"{number:013d}"
    if len(base_number) != 13 or len(segregation_code) != 2 or not segregation_code.isdigit():
        raise CollectionError(_("cannot build an IUV from %(n)s") % {"n": number})
    check = int(f"3{segregation_code}{base_number}") % 93
    return f"{segregation_code}{base_number}{check:02d}"


def issue_notice(
    *,
    request: PaymentRequest,
    actor: Any,
    now: dt.datetime,
    provider: base.PaymentProvider | None = None,
) -> PagoPANotice:
    """Create and publish a pagoPA debt position for an open request; return its notice.

    Raises CollectionError when the community does not collect through pagoPA, the request
    cannot be collected, or the provider refuses (nothing is kept but the failed attempt's
    audit entry).
    """
    community = request.community
    setup = settings_of(community)
    if not setup.pagopa_enabled:
        raise CollectionError(
            _("%(community)s does not collect through pagoPA") % {"community": community.name},
            field="pagopa_enabled",
        )
    if request.state not in COLLECTABLE_STATES:
        raise CollectionError(
            _("a request that is %(state)s cannot get a payment notice")
            % {"state": request.get_state_display().lower()},
            field="state",
        )
    live = request.pagopa_notices.exclude(status=NoticeStatus.INVALID).first()
    if live is not None:
        return live
    provider = provider or default_provider()
    organisation = setup.pagopa_organisation_fiscal_code
    member = request.member
    with transaction.atomic():
        notice = PagoPANotice.objects.create(
            request=request,
            organisation_fiscal_code=organisation,
            iupd=f"NEW-{now:%Y%m%d%H%M%S%f}",
            iuv="",
            notice_number="",
            amount_eur=request.amount_eur,
            created_at=now,
        )
        iuv = make_iuv(notice.pk, settings.PAGOPA_SEGREGATION_CODE)
        notice.iupd = f"CER-{organisation}-{iuv}"
        notice.iuv = iuv
        notice.notice_number = f"3{iuv}"
        notice.save(update_fields=["iupd", "iuv", "notice_number"])
        due = dt.datetime.combine(request.due_date, dt.time(23, 59, 59), tzinfo=ROME)
        try:
            provider.create(
                organisation,
                base.PositionRequest(
                    iupd=notice.iupd,
                    iuv=iuv,
                    payer=base.Payer(
                        fiscal_code=member.fiscal_code or member.vat_number,
                        full_name=member.display_name,
                        email=member.email,
                        is_company=member.kind != PersonKind.NATURAL,
                    ),
                    company_name=community.name,
                    amount_eur=request.amount_eur,
                    due_at=due,
                    description=f"{request.description} {request.reference}",
                    iban=setup.pagopa_iban,
                ),
            )
            state = provider.publish(organisation, notice.iupd)
        except base.ProviderError as error:
            raise CollectionError(str(error), field="pagopa") from error
        notice.status = _STATUS.get(state.status, NoticeStatus.PUBLISHED)
        notice.notice_number = state.notice_number or notice.notice_number
        notice.checked_at = now
        notice.save(update_fields=["status", "notice_number", "checked_at"])
        record(
            actor=actor,
            code="collections.pagopa.published",
            now=now,
            target=notice,
            community=community,
            changes={
                "request": request.reference,
                "iupd": notice.iupd,
                "notice_number": notice.notice_number,
                "amount_eur": str(notice.amount_eur),
            },
        )
    return notice


def refresh_notices(
    *,
    now: dt.datetime,
    community: Community | None = None,
    provider: base.PaymentProvider | None = None,
) -> int:
    """Ask pagoPA where each published notice stands; mark paid requests paid.

    Returns how many requests became paid. A provider error leaves the notice to the next
    run (it is logged in the return of the periodic job, not raised).
    """
    notices = PagoPANotice.objects.filter(status=NoticeStatus.PUBLISHED).select_related(
        "request__community"
    )
    if community is not None:
        notices = notices.filter(request__community=community)
    provider = provider or default_provider()
    paid = 0
    for notice in notices:
        try:
            state = provider.status(notice.organisation_fiscal_code, notice.iupd)
        except base.ProviderError:
            continue
        with transaction.atomic():
            locked = PagoPANotice.objects.select_for_update().get(pk=notice.pk)
            locked.status = _STATUS.get(state.status, locked.status)
            locked.checked_at = now
            locked.paid_at = state.paid_at
            locked.receipt_id = state.receipt_id[:64]
            locked.save(update_fields=["status", "checked_at", "paid_at", "receipt_id"])
            request = PaymentRequest.objects.select_for_update().get(pk=locked.request_id)
            if locked.status == NoticeStatus.PAID and request.state != RequestState.PAID:
                moment = state.paid_at or now
                mark_paid(
                    request,
                    paid_date=moment.astimezone(ROME).date(),
                    how="pagoPA",
                    actor=None,
                    now=now,
                )
                paid += 1
    return paid
