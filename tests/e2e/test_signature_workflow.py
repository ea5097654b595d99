"""A statute goes through the founders' signature workflow in a real browser.

The referente sends the statute to the two founders; each logs in, downloads it, signs it
with the local test CA (the second counter-signs the copy the first signed) and uploads
it; the request page shows both signed and the statute executed, and so does the archive.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cer.signing.models import SignatureRequest
from tests.documents import pki as test_pki
from tests.e2e.login import log_in
from tests.signing.helpers import make_founder, make_statute

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def world(settings, tmp_path):
    import datetime as dt

    from tests import factories

    pki = test_pki.make_pki()
    settings.SIGNATURE_TRUST_ANCHORS_DIR = str(pki.write_anchors(tmp_path / "anchors"))
    settings.SIGNATURE_ALLOW_FETCHING = False
    community = factories.make_community(founding_date=dt.date(2024, 9, 12))
    referente = factories.make_user_with_role(community, role="REFERENTE", username="referente")
    referente.member.memberships.update(valid_from=dt.date(2025, 1, 10))
    anna = make_founder(community, pki, "anna", "Anna", "Bianchi")
    bruno = make_founder(community, pki, "bruno", "Bruno", "Verdi")
    statute = make_statute(community)
    return pki, community, anna, bruno, statute


def _sign_and_upload(page, live_server, pki, founder, link: str, tmp_path: Path) -> None:
    page.context.clear_cookies()
    log_in(page, live_server, founder.user.username)
    page.goto(f"{live_server.url}/signing/mine/")
    page.locator("#pending a").first.click()
    with page.expect_download() as download:
        page.locator(link).click()
    original = Path(download.value.path()).read_bytes()
    signed = tmp_path / f"statuto-{founder.user.username}.pdf"
    # pyHanko runs its own event loop: not in this thread, where Playwright's runs.
    with ThreadPoolExecutor(1) as worker:
        signature = worker.submit(
            test_pki.sign_pdf, pki, founder.party, original, field=f"Firma{founder.user.username}"
        )
        signed.write_bytes(signature.result())
    page.set_input_files("#id_file", str(signed))
    page.locator("#upload-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#signed").is_visible(), page.content()[:3000]


def test_the_founders_sign_the_statute_in_turn_and_it_is_executed(
    page, live_server, world, tmp_path
):
    pki, community, anna, bruno, statute = world

    log_in(page, live_server, "referente")
    page.goto(f"{live_server.url}/signing/communities/{community.pk}/send/")
    page.select_option("#id_version", str(statute.versions.get().pk))
    page.locator("#send-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#signers tbody tr").count() == 2
    request = SignatureRequest.objects.get()

    _sign_and_upload(page, live_server, pki, anna, "#download-sent", tmp_path)
    _sign_and_upload(page, live_server, pki, bruno, "#download-signed", tmp_path)

    page.goto(f"{live_server.url}/signing/requests/{request.pk}/")
    rows = page.locator("#signers tbody tr")
    assert [rows.nth(i).get_attribute("data-status") for i in range(2)] == ["SIGNED", "SIGNED"]
    assert page.locator("#request-status").get_attribute("data-status") == "EXECUTED"
    assert page.locator("#executed").is_visible()
    page.goto(f"{live_server.url}/documents/communities/{community.pk}/")
    assert page.locator("[data-document-state]").first.inner_text().strip() != ""
    assert page.locator('[data-signature="VALID"]').count() == 1
