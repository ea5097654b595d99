"""One object of each protected model, inside a given community, for the route matrix.

A view protected by `object_permission(..., Model)` needs an instance of Model here:
add a builder when you protect a view with a new model.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from django.db import models

from cer.communities.models import Community, Configuration
from cer.documents.models import Document, DocumentVersion
from cer.members.models import Invitation, Member, Membership, MembershipApplication
from cer.plants.models import ConnectionPoint, Plant
from tests import factories

_usernames = itertools.count(1)


def _member(community: Community) -> Member:
    username = f"matrix-member-{next(_usernames)}"
    return factories.make_user_with_role(community, role="MEMBER", username=username).member


def _point(community: Community) -> ConnectionPoint:
    return factories.make_connection_point(community, _member(community), has_injection=True)


def _document_version(community: Community) -> DocumentVersion:
    return factories.make_document(community).versions.get()


def _application(community: Community) -> MembershipApplication:
    return factories.make_application(community)


def _device(community: Community) -> Any:
    from tests.metering.conftest import make_device

    return make_device(_point(community))


BUILDERS: dict[type[models.Model], Callable[[Community], Any]] = {
    Community: lambda community: community,
    Configuration: lambda community: community.configurations.first(),
    Member: _member,
    ConnectionPoint: _point,
    Plant: lambda community: factories.make_plant(_point(community)),
    DocumentVersion: _document_version,
    Document: lambda community: factories.make_document(community),
    MembershipApplication: _application,
    Membership: lambda community: factories.make_membership(community),
    Invitation: lambda community: factories.make_invitation(
        community, email=f"matrix-{next(_usernames)}@example.org"
    )[0],
}


def _register_device_builder() -> None:
    from cer.metering.models import Device

    BUILDERS[Device] = _device


_register_device_builder()


def _communication_copy(community: Community) -> Any:
    """A member's copy of a communication, answered with a file (so its download exists)."""
    from django.core.files.base import ContentFile

    from cer.communications.models import Communication, CommunicationRecipient

    membership = factories.make_membership(community)
    communication = Communication.objects.create(
        community=community,
        subject_it="Prova",
        body_it="Prova",
        recipient_filter="ALL",
        reply_kind="FILE",
        idempotency_key=f"matrix-{next(_usernames)}",
        sent_at=_now(),
    )
    copy = CommunicationRecipient(
        communication=communication,
        member=membership.member,
        membership=membership,
        language="it",
        subject="Prova",
        body="Prova",
        reply_file_name="a.pdf",
        reply_content_type="application/pdf",
    )
    copy.reply_file.save("a.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    copy.save()
    return copy


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def _register_communication_builders() -> None:
    from cer.communications.models import Communication, CommunicationRecipient

    BUILDERS[CommunicationRecipient] = _communication_copy
    BUILDERS[Communication] = lambda community: _communication_copy(community).communication


_register_communication_builders()


def _register_treasury_builders() -> None:
    import datetime as dt

    from cer.treasury import ledger
    from cer.treasury.models import Expense, IncomeEntry
    from tests.treasury.helpers import NOW, expense_values

    def expense(community: Community) -> Expense:
        from django.core.files.uploadedfile import SimpleUploadedFile

        values = expense_values(document_number=f"M-{next(_usernames)}")
        attachment = SimpleUploadedFile("fattura.pdf", b"%PDF-1.4\n", "application/pdf")
        return ledger.record_expense(
            community=community, actor=None, now=NOW, attachment=attachment, **values
        )

    def income(community: Community) -> IncomeEntry:
        return ledger.record_income(
            community=community,
            received_date=dt.date(2025, 5, 1),
            category="OTHER",
            description="Donation",
            amount_eur="10.00",
            actor=None,
            now=NOW,
        )

    BUILDERS[Expense] = expense
    BUILDERS[IncomeEntry] = income


_register_treasury_builders()


def sample_object(model: type[models.Model], community: Community) -> Any:
    """Return an instance of `model` that belongs to `community`."""
    try:
        builder = BUILDERS[model]
    except KeyError:
        raise LookupError(
            f"no sample {model.__name__} for the route matrix: add one in {__file__}"
        ) from None
    return builder(community)


def _run(community: Community) -> Any:
    from cer.settlement.models import SettlementRun
    from tests.factories import settlement as money_builders

    existing = SettlementRun.objects.filter(configuration__community=community).first()
    return existing or money_builders.make_settlement_run(community.configurations.first())


def _statement(community: Community) -> Any:
    from cer.billing.models import Statement
    from tests.factories import billing as money_builders

    existing = Statement.objects.filter(configuration__community=community).first()
    return existing or money_builders.make_statement(_run(community), _member(community))


def _dispute(community: Community) -> Any:
    from cer.billing.models import Dispute
    from tests.factories import billing as money_builders

    line = _statement(community).lines.first()
    return Dispute.objects.filter(line=line).first() or money_builders.make_dispute(line)


def _payout(community: Community) -> Any:
    from cer.billing.models import PayoutBatch
    from tests.factories import billing as money_builders

    existing = PayoutBatch.objects.filter(configuration__community=community).first()
    return existing or money_builders.make_payout_batch(community.configurations.first())


def _bank_report(community: Community) -> Any:
    from cer.billing.models import BankReport
    from tests.factories import billing as money_builders

    existing = BankReport.objects.filter(configuration__community=community).first()
    return existing or money_builders.make_bank_report(community.configurations.first())


def _register_money_builders() -> None:
    from cer.billing.models import BankReport, Dispute, PayoutBatch, Statement, StatementLine
    from cer.settlement.models import SettlementRun

    BUILDERS[SettlementRun] = _run
    BUILDERS[Statement] = _statement
    BUILDERS[StatementLine] = lambda community: _statement(community).lines.first()
    BUILDERS[Dispute] = _dispute
    BUILDERS[PayoutBatch] = _payout
    BUILDERS[BankReport] = _bank_report


_register_money_builders()


def _register_invoice_builder() -> None:
    from cer.billing.models import Invoice
    from tests.factories.invoices import bare_draft

    BUILDERS[Invoice] = bare_draft


_register_invoice_builder()


def _collection_request(community: Community) -> Any:
    import datetime as dt

    from cer.collections.models import PaymentRequest

    return PaymentRequest.objects.create(
        community=community,
        member=_member(community),
        kind="MEMBERSHIP_FEE",
        amount_eur="20.00",
        due_date=dt.date(2025, 3, 31),
        description="Quota 2025",
        created_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )


def _mandate(community: Community) -> Any:
    import datetime as dt

    from cer.collections.models import Mandate

    member = _member(community)
    return Mandate.objects.create(
        community=community,
        member=member,
        reference=f"CER{community.pk}-{member.pk}-1",
        signed_date=dt.date(2025, 2, 1),
        debtor_name=member.display_name,
        iban=factories.IBAN,
        created_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )


def _collection_batch(community: Community) -> Any:
    import datetime as dt

    from cer.collections.models import CollectionBatch

    return CollectionBatch.objects.filter(community=community).first() or (
        CollectionBatch.objects.create(
            community=community,
            creditor_id="DE98ZZZ09999999999",
            creditor_name=community.name[:70],
            creditor_iban=factories.IBAN,
            creditor_bic="",
            collection_date=dt.date(2025, 3, 17),
            total_eur="0.00",
            count=0,
            message_id=f"MATRIX-{community.pk}",
            xml="",
            created_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        )
    )


def _collection_report(community: Community) -> Any:
    import datetime as dt

    from cer.collections.models import CollectionReport

    return CollectionReport.objects.filter(community=community).first() or (
        CollectionReport.objects.create(
            community=community,
            kind="PAIN002",
            file_name="status.xml",
            sha256="0" * 64,
            imported_at=dt.datetime(2025, 3, 18, tzinfo=dt.UTC),
        )
    )


def _register_collection_builders() -> None:
    from cer.collections.models import CollectionBatch, CollectionReport, Mandate, PaymentRequest

    BUILDERS[PaymentRequest] = _collection_request
    BUILDERS[Mandate] = _mandate
    BUILDERS[CollectionBatch] = _collection_batch
    BUILDERS[CollectionReport] = _collection_report


_register_collection_builders()


def _signature_request(community: Community) -> Any:
    """An open request for a document of the community, with one member to sign it."""
    from cer.signing.models import SignatureRequest, Signer

    existing = SignatureRequest.objects.filter(community=community).first()
    if existing is not None:
        return existing
    version = _document_version(community)
    request = SignatureRequest.objects.create(
        community=community,
        version=version,
        sent_sha256="0" * 64,
        kind="QUALIFIED",
        created_at=_now(),
    )
    member = _member(community)
    Signer.objects.create(
        request=request,
        position=1,
        name=member.display_name,
        tax_code=str(member.fiscal_code),
        email=member.email,
        user=member.user,
    )
    return request


def _register_signing_builders() -> None:
    from cer.signing.models import SignatureRequest, Signer

    BUILDERS[SignatureRequest] = _signature_request
    BUILDERS[Signer] = lambda community: _signature_request(community).signers.first()


_register_signing_builders()
