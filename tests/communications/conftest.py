"""A small community for the communication tests: who is who, and a fixed clock.

- Anna: a member with everything (account with e-mail, phone, IBAN, consent), consumer
  in the first configuration;
- Bruno: producer (owns a plant) in the first configuration, reads in English;
- Carla: no IBAN and no phone, account without consent, in the second configuration;
- Dario: no user account; hand-picked tests use him;
- Ezio: left the community last year (never a recipient);
- the referente (a member too, with all data, no point).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from cer.communities.models import Community, Configuration
from cer.members.models import Member, Membership
from cer.notifications.models import RecipientSettings
from cer.privacy.models import ConsentPurpose
from cer.privacy.services import current_notice, give_consents
from tests import factories
from tests.factories.identifiers import next_seed


@pytest.fixture(autouse=True)
def _english_pages():
    """The tests read the managers' pages and refusals in English (URLs reversed under /en/).

    What a member receives is written in that member's language whatever is active; the
    Italian of the pages is the translators' work, checked by eye.
    """
    with translation.override("en"):
        yield


# Monday 7 December 2026, 10:00 in Rome.
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
JOINED = dt.date(2024, 9, 12)


@dataclass
class World:
    community: Community
    first: Configuration
    second: Configuration
    referente: User
    anna: Member
    bruno: Member
    carla: Member
    dario: Member
    ezio: Member

    def membership(self, member: Member) -> Membership:
        return Membership.objects.get(member=member, community=self.community)


def _person(first_name: str, *, phone: str = "+39 041 123456", account: bool = True) -> Member:
    user = None
    if account:
        user = User.objects.create_user(
            username=first_name.lower(),
            email=f"{first_name.lower()}@example.org",
            password="prova-password-2025",
        )
    return factories.make_member(first_name=first_name, last_name="Test", phone=phone, user=user)


def _consent(member: Member) -> None:
    give_consents(
        user=member.user,
        notice=current_notice(now=NOW),
        purposes=[ConsentPurpose.MEMBERSHIP],
        now=NOW,
    )


@pytest.fixture
def world(db) -> World:
    community = factories.make_community(name="CER Sole di Spinea")
    first = community.configurations.get()
    second = Configuration.objects.create(
        community=community,
        name="Cabina Mirano",
        primary_substation=f"AC001E{next_seed():05d}",
        market_zone="NORD",
        region="Veneto",
    )
    referente = factories.make_user_with_role(community, role="REFERENTE", username="referente")
    referente.email = "referente@example.org"
    referente.save(update_fields=["email"])
    referente.member.phone = "+39 041 000000"
    referente.member.save(update_fields=["phone"])
    _consent(referente.member)
    anna = _person("Anna")
    bruno = _person("Bruno")
    carla = _person("Carla", phone="")
    dario = _person("Dario", account=False)
    ezio = _person("Ezio")
    for member in (anna, bruno, dario, ezio):
        factories.make_membership(community, member=member)
    factories.make_membership(community, member=carla, iban="")
    Membership.objects.filter(member=ezio).update(valid_to=dt.date(2025, 12, 31))
    for member in (anna, bruno, ezio):
        _consent(member)
    factories.make_connection_point(community, anna, configuration=first)
    factories.make_plant(
        factories.make_connection_point(community, bruno, configuration=first, has_injection=True)
    )
    factories.make_connection_point(community, carla, configuration=second)
    RecipientSettings.objects.create(user=bruno.user, language="en")
    return World(community, first, second, referente, anna, bruno, carla, dario, ezio)
