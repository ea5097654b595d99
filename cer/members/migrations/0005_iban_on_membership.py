# The IBAN moves from the person to each membership: a community pays to the account
# given to it, and a change made in one community no longer redirects another's payouts.

import cer.core.crypto
import cer.core.validators
from django.db import migrations

OPEN_APPLICATIONS = ("IN_PROGRESS", "SUBMITTED")


def copy_to_memberships(apps, schema_editor):
    # Fields read decrypted and are encrypted again on save.
    Member = apps.get_model("members", "Member")
    Membership = apps.get_model("members", "Membership")
    MembershipApplication = apps.get_model("members", "MembershipApplication")
    for member in Member.objects.exclude(iban="").order_by("pk").iterator():
        for membership in Membership.objects.filter(member_id=member.pk):
            membership.iban = member.iban
            membership.save(update_fields=["iban"])
        # An application still open becomes a membership later: it carries the IBAN there.
        for application in MembershipApplication.objects.filter(
            member_id=member.pk, status__in=OPEN_APPLICATIONS
        ):
            application.iban = member.iban
            application.save(update_fields=["iban"])


def copy_back_to_members(apps, schema_editor):
    # One IBAN per person again: the latest membership's that has one, else an open
    # application's.
    Member = apps.get_model("members", "Member")
    Membership = apps.get_model("members", "Membership")
    MembershipApplication = apps.get_model("members", "MembershipApplication")
    for member in Member.objects.order_by("pk").iterator():
        candidates = [
            m.iban
            for m in Membership.objects.filter(member_id=member.pk).order_by(
                "-valid_from", "-pk"
            )
        ] + [
            a.iban
            for a in MembershipApplication.objects.filter(member_id=member.pk).order_by(
                "-started_at", "-pk"
            )
        ]
        iban = next((value for value in candidates if value), "")
        if iban:
            member.iban = iban
            member.save(update_fields=["iban"])


class Migration(migrations.Migration):

    dependencies = [
        ("members", "0004_encrypt_tax_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="iban",
            field=cer.core.crypto.EncryptedTextField(
                blank=True,
                max_length=34,
                validators=[cer.core.validators.validate_iban],
                verbose_name="IBAN for payouts",
            ),
        ),
        migrations.AddField(
            model_name="membershipapplication",
            name="iban",
            field=cer.core.crypto.EncryptedTextField(
                blank=True,
                max_length=34,
                validators=[cer.core.validators.validate_iban],
                verbose_name="IBAN for payouts",
            ),
        ),
        migrations.RunPython(copy_to_memberships, copy_back_to_members),
        migrations.RemoveField(
            model_name="member",
            name="iban",
        ),
    ]
