"""A person constitutes a community through the wizard and downloads its statute."""

from __future__ import annotations

import zipfile

import pytest
from django.contrib.auth.models import User

from cer.communities.models import Community
from cer.members.models import Membership
from tests.constitution import wizard_data
from tests.e2e.accessibility import serious_violations
from tests.e2e.login import log_in, set_up_authenticator

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


PASSWORD = "prova-password-2025"


def fill_fields(page, data):
    """Type each value into the field of that name, as a person would."""
    for name, value in data.items():
        if name.endswith(("TOTAL_FORMS", "INITIAL_FORMS")):
            continue
        field = page.locator(f'[name="{name}"]')
        if not value and not field.is_visible():
            # A field hidden for the chosen kind of person: nobody types into it.
            continue
        tag = field.evaluate("node => node.tagName.toLowerCase()")
        kind = field.get_attribute("type")
        if tag == "select":
            field.select_option(value)
        elif kind == "checkbox":
            field.check() if value else field.uncheck()
        else:
            field.fill(value)


def press(page, action):
    page.locator(f'.actions button[value="{action}"], button.secondary[value="{action}"]').click()


def test_a_person_constitutes_a_cer_and_downloads_its_statute(page, live_server, tmp_path):
    User.objects.create_user("fondatrice", "anna@example.org", "prova-password-2025")
    log_in(page, live_server, "fondatrice")

    page.get_by_role("link", name="Costituisci una comunità").click()
    page.locator("main button[value=start]").click()
    assert serious_violations(page) == []

    fill_fields(page, wizard_data.kind_step())
    press(page, "next")
    fill_fields(page, wizard_data.members_step())
    press(page, "next")
    fill_fields(page, wizard_data.configurations_step())
    press(page, "next")
    points = wizard_data.points_step()
    fill_fields(page, {k: v for k, v in points.items() if k.startswith("pt-0-")})
    page.locator('button[value="add_row"]').click()
    fill_fields(page, {k: v for k, v in points.items() if k.startswith("pt-1-")})
    press(page, "next")
    fill_fields(page, wizard_data.distribution_step())
    press(page, "next")

    assert "/constitute/review/" in page.url
    assert page.locator('[data-code="PLANT_POWER"]').get_attribute("data-status") == "MET"
    assert serious_violations(page) == []
    fill_fields(page, {"r-confirm": "on"})
    press(page, "next")

    community = Community.objects.get(name="CER Sole di Spinea")
    assert Membership.objects.get(community=community, role="REFERENTE").member.user.username == (
        "fondatrice"
    )
    # Now a referente, she sets up her second factor before going on.
    assert "/account/second-factor/" in page.url
    assert serious_violations(page) == []
    set_up_authenticator(page)
    assert page.locator(".recovery-codes li").count() == 10
    page.locator("#continue").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() in ("Documents", "Documenti")
    assert serious_violations(page) == []
    with page.expect_download() as download_info:
        page.locator('a[href*="/download/"]').first.click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.suffix in (".docx", ".pdf")
    with zipfile.ZipFile(target) as document:
        assert "CER Sole di Spinea" in document.read("word/document.xml").decode()


def test_a_wrong_field_is_announced_and_keeps_what_was_typed(page, live_server):
    User.objects.create_user("fondatrice", "anna@example.org", "prova-password-2025")
    log_in(page, live_server, "fondatrice")
    page.goto(f"{live_server.url}/constitute/")
    page.locator("main button[value=start]").click()

    fill_fields(page, wizard_data.kind_step(fiscal_code="12345678901"))
    press(page, "next")

    field = page.locator('[name="c-fiscal_code"]')
    assert field.get_attribute("aria-invalid") == "true"
    assert field.input_value() == "12345678901"
    assert page.locator("[role=alert]").count() == 1
    assert serious_violations(page) == []
