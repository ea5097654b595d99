"""Take the README's screenshots from a running server with the demo community loaded.

Run by hand from the repository, against `make run` (or any server on the same database):

    .venv/bin/python scripts/screenshots.py [--url http://127.0.0.1:8000] [--lang it]

First, through the services, it makes sure June of the demo year is settled and
distributed (a distribution policy is set if the community has none): the demo loader
stores readings only. Then Debian's Chromium (Playwright) logs in as the demo's referente
and member and writes docs/screenshots/{dashboard,wizard,community,member-portal,
settlement,alerts,communication}.png at 1200x1000; before, it evaluates the alert rules and
sends the ready-made assembly notice once, through the services. Needs DEBUG off or on
alike: the second factor's code is computed from the demo's published key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1200, "height": 1000}


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def prepare_month() -> dict[str, int]:
    """Settle and distribute June of the demo year unless done; return the pages' keys."""
    from django.utils import timezone

    from cer.communities.models import Community
    from cer.demo.roster import DEMO_YEAR, build_roster
    from cer.distribution.models import Distribution, DistributionPolicy
    from cer.distribution.services import distribute_run, set_policy
    from cer.settlement.models import SettlementRun
    from cer.settlement.services import compute_month

    community = Community.objects.get(fiscal_code=build_roster().community.fiscal_code)
    configuration = community.configurations.get()
    month = dt.date(DEMO_YEAR, 6, 1)
    now = timezone.now()
    if not DistributionPolicy.objects.filter(community=community).exists():
        set_policy(
            community=community,
            valid_from=dt.date(DEMO_YEAR, 1, 1),
            pots=[],
            components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
            actor=None,
            now=now,
        )
    run = (
        SettlementRun.objects.filter(configuration=configuration, month=month)
        .order_by("-version")
        .first()
    )
    if run is None:
        run = compute_month(configuration=configuration, month=month, now=now).run
    if not Distribution.objects.filter(run=run).exists():
        distribute_run(run=run, actor=None, now=now)
    return {"community": community.pk, "run": run.pk, "year": DEMO_YEAR}


def prepare_alerts_and_message(community_pk: int) -> int:
    """Evaluate the alert rules and send the assembly notice once; return its id."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from cer.alerts.services import evaluate
    from cer.communications.models import Communication
    from cer.communications.ready_made import READY_MADE
    from cer.communications.services import Draft, send
    from cer.communities.models import Community

    now = timezone.now()
    evaluate(now, [community_pk])
    sent = Communication.objects.filter(community_id=community_pk).order_by("pk").first()
    if sent is not None:
        return sent.pk
    notice = READY_MADE["assembly"]
    draft = Draft(
        subject_it=notice.subject_it,
        body_it=notice.body_it,
        subject_en=notice.subject_en,
        body_en=notice.body_en,
        recipient_filter=notice.recipient_filter,
        reply_kind=notice.reply_kind,
    )
    communication, _sent = send(
        community=Community.objects.get(pk=community_pk),
        draft=draft,
        author=User.objects.get(username="referente"),
        idempotency_key="screenshots-assembly",
        now=now,
    )
    return communication.pk


def _log_in(page, url: str, username: str) -> None:
    from django_otp.oath import TOTP

    from cer.accounts.second_factor import DEMO_KEY
    from cer.demo.loader import DEMO_PASSWORD

    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if page.locator("#id_otp").count():
        authenticator = TOTP(bytes.fromhex(DEMO_KEY), step=30, t0=0, digits=6)
        authenticator.time = time.time()
        page.fill("#id_otp", f"{authenticator.token():06d}")
        page.click("main button[type=submit]")
        page.wait_for_load_state()


def _shoot(page, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / f"{name}.png"))
    sys.stdout.write(f"{name}.png  {url}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--lang", choices=["it", "en"], default="it")
    args = parser.parse_args()
    _django()
    keys = prepare_month()
    message = prepare_alerts_and_message(keys["community"])
    base = args.url.rstrip("/") + ("" if args.lang == "it" else f"/{args.lang}")
    period = f"{keys['year']}-06"

    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        locale = "it-IT" if args.lang == "it" else "en-GB"
        manager = browser.new_context(viewport=VIEWPORT, locale=locale).new_page()
        _log_in(manager, args.url, "referente")
        community = f"{base}/dashboard/communities/{keys['community']}/?period={period}"
        _shoot(manager, community, "dashboard")
        _shoot(manager, f"{base}/communities/{keys['community']}/", "community")
        _shoot(manager, f"{base}/settlement/runs/{keys['run']}/", "settlement")
        _shoot(manager, f"{base}/constitute/", "wizard")
        _shoot(manager, f"{base}/alerts/communities/{keys['community']}/", "alerts")
        _shoot(manager, f"{base}/communications/{message}/", "communication")
        member = browser.new_context(viewport=VIEWPORT, locale=locale).new_page()
        _log_in(member, args.url, "socio")
        _shoot(member, f"{base}/dashboard/me/?period={period}", "member-portal")
        browser.close()


if __name__ == "__main__":
    main()
