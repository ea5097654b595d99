"""The smoke test's community, written into its fresh database by a process of its own.

Run as `python -m tests.topology.seed MONTH OUT.json` with the topology's environment
(production settings, the fresh DATABASE_URL, the broker's admin account): the small
configuration of the settlement tests (a household, an SME, a producer with a 45 kW
plant), the month's zonal prices, a distribution policy, a referente with a password
and an authenticator app, and one device per connection point, registered through the
service that creates its broker account. What the test needs to act as those people and
devices goes to OUT.json.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from decimal import Decimal
from pathlib import Path


def seed(month: dt.date) -> dict[str, object]:
    from django.contrib.auth.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cer.distribution.services import set_policy
    from cer.members.models import Membership
    from cer.metering import devices
    from cer.metering.models import DeviceKind
    from tests import factories
    from tests.factories.settlement import add_prices, make_small

    small = make_small()
    add_prices(month)
    # Devices installed the day before the month: its readings are not before registration.
    installed_at = dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=1)
    set_policy(
        community=small.community,
        valid_from=dt.date(2024, 1, 1),
        pots=[{"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True}],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=installed_at,
    )
    password = secrets.token_urlsafe(16)
    referente = User.objects.create_user(username="tesoriere", password=password)
    Membership.objects.create(
        member=factories.make_member(user=referente, first_name="Teresa"),
        community=small.community,
        role="REFERENTE",
        valid_from=dt.date(2024, 1, 1),
        iban=factories.IBAN,
    )
    authenticator = TOTPDevice.objects.create(user=referente, name="app", confirmed=True)
    registered = {}
    for key, point in small.points.items():
        account = devices.register_device(
            point=point, name=f"meter-{key}", kind=DeviceKind.OWN_JSON, now=installed_at
        )
        registered[key] = {
            "username": account.device.mqtt_username,
            "secret": account.secret,
            "topic": f"{account.device.topic_prefix}/readings",
            "role": account.device.broker_role,
        }
    return {
        "configuration": small.configuration.pk,
        "member": small.household.pk,
        "member_name": small.household.display_name,
        "username": referente.username,
        "password": password,
        "totp_key": authenticator.key,
        "devices": registered,
    }


def main() -> None:
    import django

    django.setup()
    month = dt.date.fromisoformat(sys.argv[1])
    Path(sys.argv[2]).write_text(json.dumps(seed(month)))


if __name__ == "__main__":
    main()
