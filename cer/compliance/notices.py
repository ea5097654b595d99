"""What the compliance files tell a community's managers: anti-mafia declarations missing,
about to lapse or lapsed. Reminders are looked for by the periodic job (periodic_jobs.py)
and told once per declaration and stage (the dedupe key)."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cer.communities.models import Community
from cer.compliance import antimafia
from cer.compliance.antimafia import DeclarationState
from cer.compliance.models import OfficeHolder
from cer.notifications import hooks, links, topics
from cer.notifications.services import notify

logger = logging.getLogger(__name__)

DECLARATION_MISSING = topics.register(
    topics.Topic(
        code="compliance.antimafia.missing",
        title=_("An anti-mafia declaration to collect"),
        subject=_("{person} has not given the anti-mafia declaration"),
        body=_(
            "{community} has grants above the anti-mafia threshold: {person} ({role}) must "
            "declare the adult family members living with them (D.Lgs. 159/2011 art. 85). "
            "Upload the signed declaration in the anti-mafia file."
        ),
    )
)
DECLARATION_EXPIRING = topics.register(
    topics.Topic(
        code="compliance.antimafia.expiring",
        title=_("An anti-mafia declaration to renew"),
        subject=_("The anti-mafia declaration of {person} lapses on {valid_until}"),
        body=_(
            "The declaration {person} ({role}) gave for {community} is valid until "
            "{valid_until}. Ask for a new signed declaration and upload it in the anti-mafia "
            "file."
        ),
    )
)
DECLARATION_EXPIRED = topics.register(
    topics.Topic(
        code="compliance.antimafia.expired",
        title=_("An anti-mafia declaration has lapsed"),
        subject=_("The anti-mafia declaration of {person} has lapsed"),
        body=_(
            "The declaration {person} ({role}) gave for {community} lapsed on "
            "{valid_until}. Ask for a new signed declaration and upload it in the anti-mafia "
            "file."
        ),
    )
)


def remind_declarations(now: dt.datetime) -> int:
    """Tell each community's managers of declarations missing, lapsing or lapsed.

    Only communities whose grants on record exceed the threshold are looked at; each
    declaration (or missing one) is told once per stage. Returns the notifications made.
    """
    day = timezone.localdate(now)
    community_ids = OfficeHolder.objects.values_list("community_id", flat=True).distinct()
    made = 0
    for community in Community.objects.filter(pk__in=list(community_ids)).order_by("pk"):
        if not antimafia.file_need(community, day=day).required:
            continue
        managers = hooks.managers_of(community.pk, now)
        if not managers:
            continue
        link = links.site_path("compliance:antimafia", community.pk)
        for row in antimafia.subject_rows(community, day=day):
            if row.state == DeclarationState.VALID:
                continue
            holder, declaration = row.holder, row.declaration
            context = {
                "person": holder.full_name,
                "role": holder.get_role_display(),
                "community": community.name,
                "valid_until": declaration.valid_until if declaration else "",
            }
            if declaration is None:
                topic, key = DECLARATION_MISSING.code, f"antimafia-missing-{holder.pk}"
            elif row.state == DeclarationState.EXPIRING:
                topic, key = DECLARATION_EXPIRING.code, f"antimafia-expiring-{declaration.pk}"
            else:
                topic, key = DECLARATION_EXPIRED.code, f"antimafia-expired-{declaration.pk}"
            made += len(
                notify(
                    managers,
                    topic,
                    context,
                    link=link,
                    now=now,
                    community=community,
                    dedupe_key=key,
                )
            )
    logger.info("anti-mafia reminders: %d notifications", made)
    return made
