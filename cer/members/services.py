"""Invitations, onboarding of new members, approval, and the end of a membership."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from cer.audit.services import record
from cer.communities.models import Community, Configuration
from cer.communities.uniqueness import pod_problem
from cer.core.validators import normalise_code, validate_iban
from cer.members import notices
from cer.members.changes import mask_iban, record_membership_saved
from cer.members.models import (
    ApplicationStatus,
    ApplicationStep,
    Invitation,
    Member,
    Membership,
    MembershipApplication,
    MembershipKind,
    MembershipRole,
)
from cer.plants.models import ConnectionPoint

logger = logging.getLogger(__name__)

INVITATION_VALIDITY = dt.timedelta(days=14)


class InvitationNotUsable(Exception):
    """Raised when an invitation link was already used or has expired."""


class ApplicationNotPending(Exception):
    """Raised when deciding on an application that is not waiting for approval."""


class ApprovalFailed(Exception):
    """Raised when the declared points cannot be registered (e.g. a POD taken meanwhile)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class MembershipAlreadyEnded(Exception):
    """Raised when ending a membership that already has an end date."""


class AlreadyInvited(Exception):
    """Raised when the address already holds a usable invitation to the community.

    `invitation` is that invitation: the manager is offered to resend it instead.
    """

    def __init__(self, invitation: Invitation) -> None:
        super().__init__(invitation.email)
        self.invitation = invitation


def pending_invitation(*, community: Any, email: str, now: dt.datetime) -> Invitation | None:
    """Return the address's invitation to the community that still works, if any."""
    candidates = Invitation.objects.filter(
        community=community,
        email__iexact=email.strip(),
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
    )
    return candidates.order_by("-created_at").first()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_invitation(token: str) -> Invitation | None:
    """Return the invitation a link's token belongs to, or None."""
    return (
        Invitation.objects.select_related("community").filter(token_hash=hash_token(token)).first()
    )


def invite(
    *,
    community: Any,
    email: str,
    actor: Any,
    now: dt.datetime,
    url_for_token: Callable[[str], str],
) -> Invitation:
    """Create an invitation and email its single-use link once the transaction commits.

    Raises AlreadyInvited when the address holds a usable invitation to the community:
    two live links for one person would let either be used (resend that one instead).
    """
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        existing = pending_invitation(community=community, email=email, now=now)
        if existing is not None:
            raise AlreadyInvited(existing)
        invitation = Invitation.objects.create(
            community=community,
            email=email,
            token_hash=hash_token(token),
            invited_by=actor,
            created_at=now,
            expires_at=now + INVITATION_VALIDITY,
        )
        record(
            actor=actor,
            code="members.invitation.sent",
            now=now,
            target=invitation,
            community=community,
            changes={"email": email},
        )
        url = url_for_token(token)
        language = translation.get_language()
        transaction.on_commit(lambda: send_invitation(invitation, url, language))
        notices.invitation_sent(invitation, now=now)
    return invitation


def send_invitation(invitation: Invitation, url: str, language: str | None) -> None:
    """E-mail the invitation's link in `language` (called on commit)."""
    context = {
        "community": invitation.community,
        "url": url,
        "expires_at": invitation.expires_at,
        "inviter": invitation.invited_by,
    }
    with translation.override(language):
        subject = render_to_string("members/email/invitation_subject.txt", context).strip()
        body = render_to_string("members/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])


def accept_invitation(
    *, invitation: Invitation, user: Any, now: dt.datetime
) -> MembershipApplication:
    """Use the invitation (once) and open a membership application for `user`.

    Raises InvitationNotUsable when the link was used or has expired.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_usable_at(now):
            raise InvitationNotUsable
        locked.used_at = now
        locked.save(update_fields=["used_at"])
        existing = Member.objects.filter(user_id=user.pk).first()
        application = MembershipApplication.objects.create(
            community=locked.community,
            invitation=locked,
            user=user,
            member=existing,
            step=ApplicationStep.PRIVACY if existing else ApplicationStep.PROFILE,
            started_at=now,
        )
        record(
            actor=user,
            code="members.invitation.accepted",
            now=now,
            target=application,
            community=locked.community,
        )
    return application


def register_with_invitation(
    *, invitation: Invitation, username: str, email: str, password: str, now: dt.datetime
) -> tuple[User, MembershipApplication]:
    """Create the invitee's user account and accept the invitation, both or neither."""
    with transaction.atomic():
        user = User.objects.create_user(username=username, email=email, password=password)
        application = accept_invitation(invitation=invitation, user=user, now=now)
    return user, application


def save_profile(
    *, application: MembershipApplication, member: Member, now: dt.datetime, iban: str = ""
) -> Member:
    """Save the applicant's personal or company data and move on to the privacy notice.

    `iban` is the account the applicant gives this community: it waits on the
    application and becomes the membership's on approval.
    """
    with transaction.atomic():
        member.user = application.user
        member.full_clean()
        member.save()
        application.member = member
        application.iban = normalise_code(iban)
        if application.iban:
            try:
                validate_iban(application.iban)
            except ValidationError as error:
                raise ValidationError({"iban": error.messages}) from error
        application.step = ApplicationStep.PRIVACY
        application.save(update_fields=["member", "iban", "step"])
        _record_registered(
            member=member, community=application.community, actor=application.user, now=now
        )
    return member


def register_member(
    *,
    member: Member,
    community: Community,
    role: str,
    kind: str,
    valid_from: dt.date,
    iban: str,
    actor: Any,
    now: dt.datetime,
) -> Membership:
    """Save a validated new person and their membership of `community`, and log both.

    A community manager's way in without an invitation (the API); logged with the same
    codes as the onboarding and the admin: `members.member.registered` for the person,
    `members.membership.created` for the membership, its IBAN masked.
    """
    with transaction.atomic():
        member.save()
        membership = Membership.objects.create(
            member=member,
            community=community,
            role=role,
            kind=kind,
            valid_from=valid_from,
            iban=iban,
        )
        _record_registered(member=member, community=community, actor=actor, now=now)
        record_membership_saved(membership=membership, before=None, actor=actor, now=now)
    return membership


def _record_registered(
    *, member: Member, community: Community, actor: Any, now: dt.datetime
) -> None:
    record(
        actor=actor,
        code="members.member.registered",
        now=now,
        target=member,
        community=community,
    )


def privacy_accepted(*, application: MembershipApplication) -> None:
    """Move the application on to the connection points once the notice is accepted."""
    application.step = ApplicationStep.POINTS
    application.save(update_fields=["step"])


def submit_points(
    *, application: MembershipApplication, points: list[dict[str, Any]], now: dt.datetime
) -> None:
    """Store the declared connection points and send the application for approval."""
    with transaction.atomic():
        application.declared_points = points
        application.status = ApplicationStatus.SUBMITTED
        application.step = ApplicationStep.DONE
        application.submitted_at = now
        application.save(update_fields=["declared_points", "status", "step", "submitted_at"])
        record(
            actor=application.user,
            code="members.application.submitted",
            now=now,
            target=application,
            community=application.community,
            changes={"pods": [point["pod"] for point in points]},
        )
        notices.application_submitted(application, now=now)


def approve(
    *, application: MembershipApplication, actor: Any, valid_from: dt.date, now: dt.datetime
) -> Membership:
    """Make the applicant a member from `valid_from` and register their connection points.

    Raises ApplicationNotPending, or ApprovalFailed when a point cannot be registered.
    """
    try:
        with transaction.atomic():
            locked = MembershipApplication.objects.select_for_update().get(pk=application.pk)
            if locked.status != ApplicationStatus.SUBMITTED or locked.member is None:
                raise ApplicationNotPending
            member = locked.member
            withdraws = injects = False
            for declared in locked.declared_points:
                configuration = Configuration.objects.get(
                    pk=declared["configuration_id"], community=locked.community
                )
                point = ConnectionPoint(
                    pod=declared["pod"],
                    configuration=configuration,
                    holder=member,
                    contracted_power_kw=declared["contracted_power_kw"],
                    has_withdrawal=declared["has_withdrawal"],
                    has_injection=declared["has_injection"],
                    address=declared.get("address", ""),
                )
                # A POD taken meanwhile in another community: say so without naming it.
                problem = pod_problem(point.pod, user=actor, community=locked.community)
                if problem is not None:
                    raise ValidationError({"pod": problem.messages})
                point.full_clean()
                point.save()
                withdraws |= point.has_withdrawal
                injects |= point.has_injection
            kind = (
                MembershipKind.PROSUMER
                if withdraws and injects
                else MembershipKind.PRODUCER
                if injects
                else MembershipKind.CONSUMER
            )
            membership = Membership.objects.create(
                member=member,
                community=locked.community,
                role=MembershipRole.MEMBER,
                kind=kind,
                valid_from=valid_from,
                iban=locked.iban,
            )
            locked.status = ApplicationStatus.APPROVED
            locked.decided_at = now
            locked.decided_by = actor
            locked.save(update_fields=["status", "decided_at", "decided_by"])
            record(
                actor=actor,
                code="members.application.approved",
                now=now,
                target=membership,
                community=locked.community,
                changes={
                    "valid_from": valid_from.isoformat(),
                    "pods": [p["pod"] for p in locked.declared_points],
                    "iban": ["", mask_iban(locked.iban)],
                },
            )
            notices.application_decided(locked, approved=True, now=now, valid_from=valid_from)
    except ValidationError as error:
        raise ApprovalFailed(
            [f"{field}: {'; '.join(texts)}" for field, texts in error.message_dict.items()]
            if hasattr(error, "message_dict")
            else list(error.messages)
        ) from error
    except (IntegrityError, Configuration.DoesNotExist) as error:
        raise ApprovalFailed([str(error)]) from error
    return membership


def reject(*, application: MembershipApplication, actor: Any, now: dt.datetime) -> None:
    """Refuse the application; the data stay for the record. Raises ApplicationNotPending."""
    with transaction.atomic():
        locked = MembershipApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != ApplicationStatus.SUBMITTED:
            raise ApplicationNotPending
        locked.status = ApplicationStatus.REJECTED
        locked.decided_at = now
        locked.decided_by = actor
        locked.save(update_fields=["status", "decided_at", "decided_by"])
        record(
            actor=actor,
            code="members.application.rejected",
            now=now,
            target=locked,
            community=locked.community,
        )
        notices.application_decided(locked, approved=False, now=now)


def end_membership(
    *, membership: Membership, valid_to: dt.date, actor: Any, now: dt.datetime
) -> Membership:
    """Record that the member leaves: `valid_to` is the first day no longer a member.

    Raises MembershipAlreadyEnded, or ValidationError when `valid_to` is not after the start.
    """
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.valid_to is not None:
            raise MembershipAlreadyEnded
        if valid_to <= locked.valid_from:
            raise ValidationError(
                {"valid_to": [_("The end of a membership must come after its start.")]}
            )
        locked.valid_to = valid_to
        locked.save(update_fields=["valid_to"])
        record(
            actor=actor,
            code="members.membership.ended",
            now=now,
            target=locked,
            community=locked.community,
            changes={"valid_to": [None, valid_to.isoformat()]},
        )
    return locked
