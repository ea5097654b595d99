"""The two journeys of the product, in a real browser, in Italian and in English, on a phone
and on a desktop: a referente manages members and plants, settles a month, distributes it
and answers a member's dispute; a household member sees their euros on the portal's first
screen and contests a line. Every page on the way reads right in its language (no raw
floats, ISO dates or Wh integers), fits a 390 px screen and has no serious axe-core finding.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from cer.billing.models import Dispute, Statement
from cer.distribution.services import set_policy
from cer.plants.models import EligibilityStatus, Plant
from cer.settlement import jobs
from cer.settlement.models import SettlementRun
from tests import factories
from tests.e2e.login import PASSWORD, log_in
from tests.e2e.reading import DESKTOP, PHONE, page_problems
from tests.factories.billing import NOW, distributed_small
from tests.factories.communities import import_area
from tests.factories.identifiers import SPINEA
from tests.factories.settlement import settled_small

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Each journey twice, to keep the browser tests lean: in Italian on a phone (390x844, where
# every page is also checked for overflow) and in English on a desktop.
RUNS = [
    pytest.param("it", PHONE, id="it-phone"),
    pytest.param("en", DESKTOP, id="en-desktop"),
]
MISTYPED_SUBSTATION = "AC001E99999"


def _(lang: str, text: str) -> str:
    with translation.override(lang):
        return translation.gettext(text)


@pytest.fixture
def browse(browser):
    """Open a browser context of a language and screen size; close them all at the end."""
    contexts = []

    def open_page(lang, viewport):
        phone = viewport == PHONE
        context = browser.new_context(
            viewport=viewport,
            locale="it-IT" if lang == "it" else "en-GB",
            is_mobile=phone,
            has_touch=phone,
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


class Journey:
    """A person's walk through the pages of one language, checking each page on the way."""

    def __init__(self, page, live_server, lang):
        self.page, self.lang = page, lang
        self.root = live_server.url + ("" if lang == "it" else f"/{lang}")
        self.problems: list[str] = []

    def go(self, path: str, *, figures: bool = True) -> None:
        response = self.page.goto(self.root + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        self.check(figures=figures)

    def check(self, *, figures: bool = True) -> None:
        self.page.wait_for_load_state()
        self.problems += page_problems(self.page, self.lang, figures=figures)

    def submit(self, selector: str = "main form button[type=submit]") -> None:
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        self.check()

    def main(self) -> str:
        return self.page.locator("main").inner_text()


@pytest.fixture
def community_to_settle(monkeypatch):
    """June 2025 of the small community with readings, prices and a policy, not settled; its
    plant carries a mistyped substation code; the referente logs in as "referente".

    The settlement job runs inside the request (after its commit) instead of in a thread of
    its own: the live server's test database is not shared with other threads.
    """
    small = settled_small()
    set_policy(
        community=small.community,
        valid_from=dt.date(2025, 1, 1),
        pots=[{"code": "social", "label": "Social fund", "percent": Decimal("5"), "social": True}],
        components=[{"basis": "CONTRIBUTION", "percent": Decimal(100)}],
        actor=None,
        now=NOW,
    )
    # The plant stands in Spinea, inside the area the community imported with its substation.
    import_area(small.community)
    Plant.objects.filter(pk=small.plant.pk).update(
        primary_substation=MISTYPED_SUBSTATION, municipality_id=SPINEA, region="Veneto"
    )
    factories.make_user_with_role(small.community, role="REFERENTE", username="referente")
    monkeypatch.setattr(
        jobs, "_start_thread", lambda job_id: jobs.execute_job(job_id=job_id, now=NOW)
    )
    return small


@pytest.mark.parametrize(("lang", "viewport"), RUNS)
def test_a_referente_manages_records_settles_and_distributes_a_month(
    browse, live_server, community_to_settle, lang, viewport
):
    small = community_to_settle
    community, configuration = small.community, small.configuration
    page = browse(lang, viewport)
    log_in(page, live_server, "referente")
    walk = Journey(page, live_server, lang)

    # Members: search, filter, open one, change the POD of their point with its history.
    walk.go(f"/members/communities/{community.pk}/list/?q=Forno")
    assert "Forno Srl" in walk.main()
    assert small.household.display_name not in walk.main()
    walk.go(f"/members/communities/{community.pk}/list/?category=SME")
    page.click(f"main a:has-text('{small.sme.display_name}')")
    walk.check(figures=False)
    assert small.points["sme"].pod in walk.main()
    old_pod, new_pod = small.points["sme"].pod, factories.valid_pod(7001 if lang == "it" else 7002)
    page.click(f"main a[href$='/points/{small.points['sme'].pk}/pod/']")
    walk.check()
    page.fill("#id_new_pod", new_pod)
    page.fill("#id_valid_from", "2025-07-01")
    walk.submit()
    history = page.locator("main table").last.inner_text()
    assert old_pod in history and new_pod in history
    assert ("1 luglio 2025" if lang == "it" else "1 July 2025") in history

    # Plants: the mistyped substation code is fixed from the plant's own form.
    walk.go(f"/plants/communities/{community.pk}/")
    walk.go(f"/plants/{small.plant.pk}/edit/")
    page.fill("#id_primary_substation", configuration.primary_substation)
    walk.submit()
    assert _(lang, "Changes saved: the plant meets every rule checked.") in page.content()
    small.plant.refresh_from_db()
    assert small.plant.primary_substation == configuration.primary_substation
    assert small.plant.eligibility_status == EligibilityStatus.ELIGIBLE

    # Settlement: queue June, read the run, distribute it after the confirmation.
    walk.go(f"/settlement/configuration/{configuration.pk}/")
    page.fill("#id_month", "2025-06")
    walk.submit()
    run = SettlementRun.objects.get(configuration=configuration)
    page.click(f"main a[href$='/settlement/runs/{run.pk}/']")
    walk.check()
    assert ("giugno 2025" if lang == "it" else "June 2025") in walk.main()
    walk.submit(f"main form[action$='/runs/{run.pk}/distribute/'] button")
    assert _(lang, "What will happen") in walk.main()
    walk.submit()
    assert _(lang, "The amount was distributed and the statements issued.") in page.content()
    statement = Statement.objects.get(member=small.household)
    walk.go(f"/settlement/statements/{statement.pk}/")
    share = "La tua quota di giugno 2025" if lang == "it" else "Your share of June 2025"
    assert share in walk.main()

    assert walk.problems == [], "\n".join(walk.problems)


@pytest.fixture
def distributed_month():
    """June 2025 distributed; the household's member logs in as "socio", a referente of the
    community as "referente"."""
    small, _distribution = distributed_small()
    factories.make_user_with_role(small.community, role="REFERENTE", username="referente")
    small.household.user = User.objects.create_user(username="socio", password=PASSWORD)
    small.household.save(update_fields=["user"])
    return small, Statement.objects.get(member=small.household)


@pytest.mark.parametrize(("lang", "viewport"), RUNS)
def test_a_member_sees_their_euros_first_and_a_referente_answers_their_dispute(
    browse, live_server, distributed_month, lang, viewport
):
    small, statement = distributed_month
    member_page = browse(lang, viewport)
    log_in(member_page, live_server, "socio")
    member = Journey(member_page, live_server, lang)

    # The first screen of the portal says what the member earned, in euros.
    member.go("/dashboard/me/?period=2025-06")
    money = member_page.locator("#money-month")
    box = money.bounding_box()
    assert box is not None and box["y"] + box["height"] <= viewport["height"]
    amount = f"{statement.amount_eur:.2f}"
    euros = amount.replace(".", ",") + "\u00a0€" if lang == "it" else f"€{amount}"
    assert euros in money.inner_text()

    # The member contests the share line: only their own steps are offered afterwards.
    member_page.click(f"main a[href$='/settlement/statements/{statement.pk}/']")
    member.check()
    member_page.locator("main a[href$='/contest/']").first.click()
    member.check()
    member_page.fill("#id_message", "Mi aspettavo di più")
    member.submit()
    dispute = Dispute.objects.get(member=small.household)
    offered = member_page.locator("main input[name=action]").evaluate_all(
        "inputs => inputs.map(input => input.value)"
    )
    assert sorted(offered) == ["reply", "withdraw"]

    # The referente answers it from their own session.
    referente_page = browse(lang, viewport)
    log_in(referente_page, live_server, "referente")
    referente = Journey(referente_page, live_server, lang)
    referente.go(f"/settlement/disputes/{dispute.pk}/", figures=False)
    referente_page.check("main input[name=action][value=answer]")
    referente_page.fill("#id_message", "La quota segue la politica di ripartizione.")
    referente.submit()
    dispute.refresh_from_db()
    assert dispute.state == "ANSWERED"

    member.go(f"/settlement/disputes/{dispute.pk}/", figures=False)
    assert "La quota segue la politica di ripartizione." in member.main()
    assert _(lang, "Dispute no. %(id)s") % {"id": dispute.pk} in member.main()

    problems = member.problems + referente.problems
    assert problems == [], "\n".join(problems)
