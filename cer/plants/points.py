"""Changing a connection point's POD code, with a dated record of the code it had before.

A distributor sometimes gives a point a new POD code (a merger of distributors, a meter
replaced on another contract, a typo at registration). The point stays the same object,
so its readings, plants, devices and statements follow it; a PodChange row keeps the old
code and the first day of the new one, and the change is audited. The web page and the
API call change_pod.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cer.audit.services import record
from cer.communities.uniqueness import pod_problem
from cer.core import formatting
from cer.core.validators import normalise_code, validate_pod
from cer.plants.models import ConnectionPoint, PodChange


def change_pod(
    *,
    point: ConnectionPoint,
    new_pod: str,
    valid_from: dt.date,
    reason: str,
    actor: Any,
    now: dt.datetime,
) -> PodChange:
    """Give `point` the code `new_pod` from `valid_from`, keeping the old one on record.

    Raises ValidationError naming `new_pod` (malformed, unchanged or taken) or `valid_from`
    (before the last recorded change: history is kept in order).
    """
    code = normalise_code(new_pod or "")
    try:
        validate_pod(code)
    except ValidationError as error:
        raise ValidationError({"new_pod": error.messages}) from error
    with transaction.atomic():
        locked = (
            ConnectionPoint.objects.select_for_update()
            .select_related("configuration__community")
            .get(pk=point.pk)
        )
        if code == locked.pod:
            raise ValidationError({"new_pod": [_("This is already the point's POD code.")]})
        community = locked.configuration.community
        problem = pod_problem(code, user=actor, community=community, exclude_pk=locked.pk)
        if problem is not None:
            raise ValidationError({"new_pod": problem.messages})
        last = locked.pod_changes.order_by("-valid_from").first()
        if last is not None and valid_from <= last.valid_from:
            raise ValidationError(
                {
                    "valid_from": [
                        _("The code already changed on %(date)s: give a later date.")
                        % {"date": formatting.day(last.valid_from)}
                    ]
                }
            )
        change = PodChange.objects.create(
            connection_point=locked,
            old_pod=locked.pod,
            new_pod=code,
            valid_from=valid_from,
            reason=reason.strip()[:200],
            changed_at=now,
            changed_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        locked.pod = code
        locked.save(update_fields=["pod"])
        point.pod = code
        record(
            actor=actor,
            code="plants.connection_point.pod_changed",
            now=now,
            target=locked,
            community=community,
            changes={
                "pod": [change.old_pod, change.new_pod],
                "valid_from": valid_from.isoformat(),
            },
        )
    return change
