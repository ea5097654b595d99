"""The demo community's collections: a creditor identifier, mandates, the 2025 fee collected.

Six members signed a SEPA mandate; the 2025 membership fee (20.00 EUR) is asked of every
active member and collected by direct debit on 17 March 2025. The bank's camt.054 books
every debit but one, which comes back with AM04 (insufficient funds) and stays to collect
again. Idempotent: a community that already has a creditor identifier is left alone.
"""

from __future__ import annotations

import datetime as dt

from cer.collections import batches
from cer.collections.mandates import create_mandate, save_settings, settings_of
from cer.collections.models import RequestKind
from cer.collections.reports import import_report
from cer.collections.requests import create_fee_for_all
from cer.collections.sepa import creditor_check_digits
from cer.communities.models import Community
from cer.core.validators import normalise_code
from cer.members.models import Membership

# The community's own account (a valid Italian IBAN made for the demo).
COMMUNITY_IBAN = "IT86X0200801600000100000999"
COMMUNITY_BIC = "UNCRITMM"
FEE_EUR = "20.00"
MANDATES = 6
ASKED_AT = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
BOOKED_ON = dt.date(2025, 3, 17)


def load_collections(community: Community) -> int:
    """Give the demo community its collections; return the number of debits paid."""
    if settings_of(community).creditor_id:
        return 0
    fiscal_code = normalise_code(community.fiscal_code)
    save_settings(
        community=community,
        creditor_id=f"IT{creditor_check_digits('IT', fiscal_code)}ZZZ{fiscal_code}",
        creditor_name=community.name[:70],
        creditor_iban=COMMUNITY_IBAN,
        creditor_bic=COMMUNITY_BIC,
        prenotification_days=14,
        actor=None,
        now=ASKED_AT,
    )
    memberships = (
        Membership.objects.active_on(ASKED_AT.date())
        .filter(community=community)
        .exclude(iban="")
        .select_related("member")
        .order_by("member_id")
    )
    for membership in memberships[:MANDATES]:
        create_mandate(
            community=community,
            member=membership.member,
            signed_date=dt.date(2025, 2, 10),
            debtor_name=membership.member.display_name,
            iban=membership.iban,
            actor=None,
            now=ASKED_AT,
        )
    create_fee_for_all(
        community=community,
        kind=RequestKind.MEMBERSHIP_FEE,
        amount_eur=FEE_EUR,
        due_date=dt.date(2025, 3, 31),
        description="Quota associativa 2025",
        series="FEE-2025",
        actor=None,
        now=ASKED_AT,
    )
    batch = batches.create_batch(
        community=community, collection_date=BOOKED_ON, actor=None, now=ASKED_AT
    )
    batches.batch_file(batch=batch, actor=None, now=ASKED_AT)
    items = list(batch.items.order_by("pk"))
    import_report(
        community=community,
        file_name="camt054-demo-2025-03-17.xml",
        content=_camt054(items),
        actor=None,
        now=dt.datetime(2025, 3, 18, 8, 0, tzinfo=dt.UTC),
    )
    return len(items) - 1


def _camt054(items: list) -> bytes:
    """The bank's notification: every debit booked, the last one returned with AM04."""
    entries = []
    for number, item in enumerate(items, start=1):
        returned = number == len(items)
        entries.append(
            f'<Ntry><Amt Ccy="EUR">{item.amount_eur}</Amt>'
            f"<CdtDbtInd>{'DBIT' if returned else 'CRDT'}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{BOOKED_ON.isoformat()}</Dt></BookgDt><NtryDtls><TxDtls>"
            f"<Refs><EndToEndId>{item.end_to_end_id}</EndToEndId></Refs>"
            + ("<RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>" if returned else "")
            + "</TxDtls></NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">'
        "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>DEMO-CAMT054-20250317</MsgId>"
        "<CreDtTm>2025-03-18T08:00:00</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>DEMO-1</Id>{''.join(entries)}</Ntfctn>"
        "</BkToCstmrDbtCdtNtfctn></Document>"
    ).encode()
