"""What each recorded action means, in words a referente reads (the code stays the key)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "accounts.login.unlocked": _("Login unlocked"),
    "accounts.password.changed": _("Password changed"),
    "accounts.password.reset": _("Password reset by e-mail"),
    "accounts.recovery_codes.regenerated": _("New recovery codes"),
    "accounts.second_factor.enabled": _("Second factor set up"),
    "accounts.second_factor.removed": _("Second factor removed"),
    "accounts.second_factor.reset": _("Second factor reset by an administrator"),
    "api.personal_token.created": _("API token created"),
    "api.personal_token.revoked": _("API token revoked"),
    "billing.dispute.opened": _("Dispute opened"),
    "billing.invoice.created": _("Invoice drafted"),
    "billing.invoice.issued": _("Invoice issued"),
    "billing.invoicing_profile.changed": _("Invoicing data changed"),
    "billing.bank_report.imported": _("Bank status report imported"),
    "billing.payout.cancelled": _("Payout cancelled"),
    "billing.payout.completed": _("Payout completed (every transfer settled or rejected)"),
    "billing.payout.created": _("Payout prepared"),
    "billing.payout.downloaded": _("Payout file downloaded"),
    "billing.payout.issued": _("Payout file issued"),
    "billing.payout.sent": _("Payout file sent to the bank"),
    "billing.payout.transfer_rejected": _("Payout transfer rejected"),
    "billing.payout.transfer_settled": _("Payout transfer settled"),
    "billing.payout.voided": _("Payout voided"),
    "billing.payout_settings.changed": _("Minimum transfer changed"),
    "communities.community.constituted": _("Community constituted"),
    "communities.reading_source_order.changed": _("Reading sources order changed"),
    "distribution.distribution.created": _("Distribution computed"),
    "distribution.policy.set": _("Distribution policy set"),
    "documents.version.added": _("Document uploaded"),
    "members.application.approved": _("Application approved"),
    "members.application.rejected": _("Application rejected"),
    "members.application.submitted": _("Application submitted"),
    "members.invitation.accepted": _("Invitation accepted"),
    "members.invitation.sent": _("Invitation sent"),
    "members.member.changed": _("Member data changed"),
    "members.member.created": _("Member added"),
    "members.member.registered": _("Member registered"),
    "members.membership.changed": _("Membership changed"),
    "members.membership.created": _("Membership started"),
    "members.membership.deleted": _("Membership deleted"),
    "members.membership.ended": _("Membership ended"),
    "members.membership.iban_changed": _("IBAN for payouts changed"),
    "metering.device.created": _("Device registered"),
    "metering.device.deleted": _("Device deleted"),
    "metering.device.rotated": _("Device secret renewed"),
    "metering.readings.estimated": _("Missing hours estimated"),
    "metering.readings.written": _("Readings written"),
    "plants.plant.checked": _("Plant eligibility checked"),
    "plants.plant.registered": _("Plant registered"),
    "plants.plant.verified": _("Plant verified"),
    "privacy.consent.given": _("Consent given"),
    "privacy.consent.withdrawn": _("Consent withdrawn"),
    "privacy.data.exported": _("Personal data exported"),
    "privacy.erasure.redacted_audit": _("Personal data removed from the log"),
    "privacy.member.erased": _("Member's data erased"),
    "settlement.gse.imported": _("GSE amounts imported"),
    "settlement.job.requested": _("Settlement requested"),
    "settlement.run.computed": _("Settlement computed"),
    "settlement.run.finalised": _("Settlement finalised"),
}


def action_label(code: str) -> str:
    """The action in words, or its code when it has none yet."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code
