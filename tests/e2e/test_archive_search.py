"""On a phone (390×844) the referente searches the archive for a word inside a DOCX, sees the
match highlighted, and the archive and review pages fit the screen."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cer.documents.services import ACCEPTED, create_document
from tests import factories
from tests.documents.files import docx_bytes
from tests.e2e.accessibility import serious_violations
from tests.e2e.login import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PHONE = {"width": 390, "height": 844}


def test_search_on_a_phone(browser, live_server):
    community = factories.make_community()
    factories.make_user_with_role(community, role="REFERENTE", username="referente")
    create_document(
        community=community,
        kind="CONTRACT",
        title="Contratto di manutenzione",
        document_date=timezone.localdate(),
        content=docx_bytes("Premessa", "manutenzione dell'inverter ibrido"),
        file_type=ACCEPTED["docx"],
        original_name="contratto.docx",
        actor=None,
        now=timezone.now(),
    )
    context = browser.new_context(viewport=PHONE, locale="it-IT", is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, "referente")
        page.goto(f"{live_server.url}/documents/communities/{community.pk}/")
        page.fill("#id_q", "inverter")
        page.click("form[role=search] button[type=submit]")
        page.wait_for_load_state("networkidle")

        assert page.locator(".results mark").first.inner_text() == "inverter"
        assert page.locator(".results a").first.inner_text() == "Contratto di manutenzione"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
        assert serious_violations(page) == []
        page.goto(f"{live_server.url}/documents/communities/{community.pk}/review/")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    finally:
        context.close()
