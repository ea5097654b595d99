"""A referente invites a person by email, who registers and is approved; outsiders are refused."""

from __future__ import annotations

import re

import pytest
from stdnum.it import codicefiscale

from cer.members.models import Membership
from cer.plants.models import ConnectionPoint
from cer.privacy.models import Consent
from tests.e2e.accessibility import serious_violations
from tests.e2e.test_constitution import fill_fields, log_in
from tests.members.smtp import body_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LINK = re.compile(r"https?://\S+/members/join/\S+/")


def test_an_invited_person_registers_and_the_referente_approves(
    page, browser, live_server, referente, community, smtp_server
):
    log_in(page, live_server, "referente")
    page.goto(f"{live_server.url}/communities/{community.pk}/")
    page.get_by_role("link", name="Invita soci").click()
    assert serious_violations(page) == []
    page.fill('[name="email"]', "lucia@example.org")
    page.locator(".actions button[type=submit]").click()

    (message,) = smtp_server.messages
    link = LINK.search(body_of(message)).group(0)
    invitee = browser.new_context(locale="it-IT").new_page()
    invitee.goto(link)
    assert serious_violations(invitee) == []
    fill_fields(
        invitee,
        {
            "username": "lucia",
            "password1": "Girasole-sul-tetto-42",
            "password2": "Girasole-sul-tetto-42",
        },
    )
    # The live checks listen once their script has run: a change event sent before the
    # next page has loaded would be lost.
    with invitee.expect_navigation(wait_until="load"):
        invitee.locator(".actions button[type=submit]").click()

    code = "NRELCU90A41L736"
    code += codicefiscale.calc_check_digit(code)
    invitee.fill('[name="p-fiscal_code"]', code[:-1] + ("A" if code[-1] != "A" else "B"))
    invitee.locator('[name="p-fiscal_code"]').dispatch_event("change")
    invitee.locator("#id_p-fiscal_code_live.error").wait_for()
    assert serious_violations(invitee) == []
    fill_fields(
        invitee,
        {
            "p-kind": "NATURAL",
            "p-category": "HOUSEHOLD",
            "p-first_name": "Lucia",
            "p-last_name": "Neri",
            "p-fiscal_code": code,
            "p-address": "Via Venezia 5",
            "p-municipality": "Spinea (VE)",
            "p-iban": "IT60X0542811101000000123456",
        },
    )
    invitee.locator(".actions button[type=submit]").click()
    assert serious_violations(invitee) == []
    fill_fields(invitee, {"c-membership": "on", "c-gse_reporting": "on"})
    invitee.locator(".actions button[type=submit]").click()
    fill_fields(
        invitee,
        {
            "pt-0-pod": "IT001E55500001",
            "pt-0-configuration": str(community.configurations.get().pk),
            "pt-0-contracted_power_kw": "3",
        },
    )
    assert serious_violations(invitee) == []
    invitee.locator('.actions button[value="submit"]').click()
    invitee.locator("h2", has_text="Domanda inviata").wait_for()

    page.goto(f"{live_server.url}/members/communities/{community.pk}/invite/")
    page.get_by_role("link", name="Lucia Neri").click()
    assert serious_violations(page) == []
    page.locator('button[value="approve"]').click()

    membership = Membership.objects.get(community=community, member__user__username="lucia")
    assert membership.role == "MEMBER"
    assert ConnectionPoint.objects.get(pod="IT001E55500001").holder == membership.member
    assert Consent.objects.filter(user__username="lucia", notice__version="1.0").count() == 2
    assert serious_violations(page) == []


def test_a_member_of_another_community_is_refused(page, live_server, outsider, community):
    log_in(page, live_server, "estraneo")

    invite = page.goto(f"{live_server.url}/members/communities/{community.pk}/invite/")
    documents = page.goto(f"{live_server.url}/documents/communities/{community.pk}/")

    assert invite.status == 403
    assert documents.status == 403
