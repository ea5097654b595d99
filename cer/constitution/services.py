"""Constituting a community: every object of the wizard saved in one transaction, or none.

Apps on higher floors that must act on a new community (distribution turns the wizard's
split into the first distribution policy) register a callback with `on_constituted` from
their AppConfig.ready; it runs inside the same transaction, so a refusal undoes everything.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from cer.audit.services import record
from cer.communities.models import Community, ConstitutionDraft
from cer.constitution.wizard import ConstitutionPlan
from cer.documents.services import draft_founding_documents
from cer.members.models import Member, Membership, MembershipKind, MembershipRole
from cer.plants.services import check_community_plants

logger = logging.getLogger(__name__)

# Called as callback(community=, distribution=, actor=, now=, today=) once the community,
# its members and its distribution rule are saved.
_CONSTITUTED: list[Callable[..., None]] = []


def on_constituted(callback: Callable[..., None]) -> None:
    """Run `callback` for every community the wizard constitutes (once per callback)."""
    if callback not in _CONSTITUTED:
        _CONSTITUTED.append(callback)


class ConstitutionFailed(Exception):
    """Raised when the data no longer hold at saving time (e.g. a code taken meanwhile)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def constitute_community(
    *, user: Any, plan: ConstitutionPlan, now: dt.datetime, today: dt.date
) -> Community:
    """Create the community, its members, configurations, points, plants, distribution rule
    and drafted documents, make `user` its referente and delete the user's draft.

    Raises ConstitutionFailed, leaving nothing saved, when any object is invalid.
    """
    written: list[str] = []
    try:
        with transaction.atomic():
            community = _constitute(user=user, plan=plan, now=now, today=today, written=written)
    except ValidationError as error:
        _remove(written)
        raise ConstitutionFailed(_messages(error)) from error
    except IntegrityError as error:
        _remove(written)
        raise ConstitutionFailed([str(error)]) from error
    except Exception:
        _remove(written)
        raise
    return community


def _constitute(
    *, user: Any, plan: ConstitutionPlan, now: dt.datetime, today: dt.date, written: list[str]
) -> Community:
    community = plan.community
    community.full_clean()
    community.save()

    creator = plan.creator
    if creator.pk is None:
        creator.user = user
        creator.full_clean()
        creator.save()
    members: dict[str, Member] = {creator.fiscal_code: creator}
    for member in plan.other_members:
        member.full_clean()
        member.save()
        members[member.fiscal_code] = member

    configurations = {}
    for configuration in plan.configurations:
        configuration.community = community
        configuration.full_clean()
        configuration.save()
        configurations[configuration.primary_substation] = configuration

    roles: dict[str, set[str]] = {code: set() for code in members}
    for planned in plan.points:
        holder = members[planned.holder_code]
        point = planned.point
        point.configuration = configurations[planned.primary_substation]
        point.holder = holder
        point.full_clean()
        point.save()
        if point.has_withdrawal:
            roles[holder.fiscal_code].add("withdraws")
        if point.has_injection:
            roles[holder.fiscal_code].add("injects")
        if planned.plant is not None:
            planned.plant.connection_point = point
            planned.plant.owner = holder
            planned.plant.full_clean()
            planned.plant.save()

    if any(planned.plant is not None for planned in plan.points):
        # Checked on save, like every plant: none is left "not checked yet".
        check_community_plants(community=community, actor=user, now=now)

    valid_from = community.founding_date or today
    for code, member in members.items():
        Membership.objects.create(
            member=member,
            community=community,
            role=MembershipRole.REFERENTE if member is creator else MembershipRole.MEMBER,
            kind=_participation(roles[code]),
            valid_from=valid_from,
            # Typed in the founding members' step; the person's existing record has none.
            iban=getattr(member, "payout_iban", ""),
        )

    plan.distribution.community = community
    plan.distribution.full_clean()
    plan.distribution.save()
    for callback in _CONSTITUTED:
        callback(
            community=community, distribution=plan.distribution, actor=user, now=now, today=today
        )

    draft_founding_documents(
        community=community,
        kinds=plan.document_kinds,
        actor=user,
        now=now,
        today=today,
        written=written,
    )
    record(
        actor=user,
        code="communities.community.constituted",
        now=now,
        target=community,
        community=community,
        changes={
            "members": len(members),
            "configurations": len(configurations),
            "connection_points": len(plan.points),
            "plants": sum(1 for planned in plan.points if planned.plant is not None),
            "documents": plan.document_kinds,
            "checklist": {r.code: r.status.value for r in plan.requirements},
        },
    )
    ConstitutionDraft.objects.filter(user_id=user.pk).delete()
    return community


def _participation(roles: set[str]) -> str:
    if roles == {"withdraws", "injects"}:
        return MembershipKind.PROSUMER
    if roles == {"injects"}:
        return MembershipKind.PRODUCER
    return MembershipKind.CONSUMER


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "message_dict"):
        return [f"{field}: {'; '.join(texts)}" for field, texts in error.message_dict.items()]
    return list(error.messages)


def _remove(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not remove %s after a rolled-back constitution", name)
