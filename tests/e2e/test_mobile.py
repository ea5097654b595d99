"""At 390×844 (a phone held upright) the referente's and the member's main pages fit the
screen, the menu opens and closes from its button, and axe-core finds nothing serious."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from cer.billing.models import Statement
from tests import factories
from tests.e2e.accessibility import serious_violations
from tests.e2e.login import PASSWORD, log_in
from tests.factories.billing import distributed_small

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="it-IT", is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def settled():
    """June 2025 of the small community settled and distributed; the household's member
    logs in as "socio", a referente of the community as "referente"."""
    small, distribution = distributed_small()
    factories.make_user_with_role(small.community, role="REFERENTE", username="referente")
    small.household.user = User.objects.create_user(username="socio", password=PASSWORD)
    small.household.save(update_fields=["user"])
    statement = Statement.objects.filter(member=small.household).latest("pk")
    return small, distribution.run, statement


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _check_fits_and_is_accessible(page, url: str) -> list[str]:
    """Open the page; return what is wrong with it on a phone (empty when nothing is)."""
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    problems = []
    if response.status != 200:
        problems.append(f"{url}: answered {response.status}")
    width = _page_width(page)
    if width > PHONE["width"] + 1:
        problems.append(f"{url}: {width} px wide")
    unreachable = page.evaluate(
        "[...document.querySelectorAll('main table, main .table-scroll')]"
        ".filter(box => box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute('tabindex'))"
        ".length"
    )
    if unreachable:
        problems.append(f"{url}: {unreachable} scrolling tables cannot take the focus")
    problems += [f"{url}: {violation}" for violation in serious_violations(page)]
    return problems


def _check_menu_toggles(page) -> None:
    button = page.locator(".menu-toggle")
    menu = page.locator("#main-menu")
    assert button.is_visible()
    assert button.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()

    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert menu.is_visible()
    assert _page_width(page) <= PHONE["width"] + 1

    menu.locator("a").first.focus()
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")

    button.click()
    button.click()
    assert not menu.is_visible()


def test_referente_pages_fit_a_phone(phone, live_server, settled):
    small, run, statement = settled
    log_in(phone, live_server, "referente")

    pages = [
        f"/communities/{small.community.pk}/",
        f"/settlement/runs/{run.pk}/",
        f"/settlement/statements/{statement.pk}/",
        f"/dashboard/communities/{small.community.pk}/?period=2025-06",
    ]
    problems = [
        p for path in pages for p in _check_fits_and_is_accessible(phone, live_server.url + path)
    ]

    assert problems == []
    _check_menu_toggles(phone)


def test_member_pages_fit_a_phone(phone, live_server, settled):
    small, _run, statement = settled
    log_in(phone, live_server, "socio")

    pages = [
        f"/communities/{small.community.pk}/",
        f"/settlement/statements/{statement.pk}/",
        "/settlement/statements/",
        "/dashboard/me/?period=2025-06",
    ]
    problems = [
        p for path in pages for p in _check_fits_and_is_accessible(phone, live_server.url + path)
    ]

    assert problems == []
    _check_menu_toggles(phone)


def test_background_task_pages_fit_a_phone(phone, live_server, settled):
    # A finished export with its file, one whose file has expired, one that failed, one
    # still waiting: the list and each page, as the person who asked sees them.
    import datetime as dt

    from cer.core.models import TaskRecord, TaskState

    log_in(phone, live_server, "referente")
    referente = User.objects.get(username="referente")
    at = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    common = {"requested_by": referente, "requested_at": at, "started_at": at}
    title = {"title": "Rendiconto di giugno 2025 della CER Piccola, foglio di calcolo"}
    records = [
        TaskRecord.objects.create(
            name="reports.file",
            key="done",
            arguments=title,
            state=TaskState.DONE,
            finished_at=at,
            result_file="tasks/1/rendiconto-2025-06-cer-piccola-con-un-nome-lungo.csv",
            **common,
        ),
        TaskRecord.objects.create(
            name="reports.file",
            key="expired",
            arguments=title,
            state=TaskState.DONE,
            finished_at=at,
            result={"expired_file": "rendiconto-2025-06-cer-piccola-con-un-nome-lungo.csv"},
            **common,
        ),
        TaskRecord.objects.create(
            name="imports.curves",
            key="failed",
            state=TaskState.FAILED,
            finished_at=at,
            error="riga 12, colonna «POD»: IT001E0000000X non è un codice POD valido",
            **common,
        ),
        TaskRecord.objects.create(name="billing.bundle", key="queued", **common),
    ]

    pages = ["/tasks/", *(f"/tasks/{record.pk}/" for record in records)]
    problems = [
        p for path in pages for p in _check_fits_and_is_accessible(phone, live_server.url + path)
    ]

    assert problems == []
    phone.goto(f"{live_server.url}/tasks/{records[1].pk}/")
    assert "è stato eliminato 7 giorni dopo" in phone.inner_text("main")

    # The waiting task's page follows it in place: once the task ends, its file is offered
    # without a reload, and the button that stops following goes away.
    waiting = records[3]
    phone.goto(f"{live_server.url}/tasks/{waiting.pk}/")
    phone.evaluate("window.notReloaded = true")
    assert phone.is_visible("[data-task-stop]")
    TaskRecord.objects.filter(pk=waiting.pk).update(
        state=TaskState.DONE, finished_at=at, result_file="tasks/4/statements-2025-06.zip"
    )
    phone.wait_for_selector("text=Scarica statements-2025-06.zip", timeout=15_000)
    assert phone.evaluate("window.notReloaded") is True
    assert not phone.is_visible("[data-task-stop]")


def test_without_javascript_the_menu_stays_open_and_its_button_hidden(
    browser, live_server, settled
):
    context = browser.new_context(viewport=PHONE, locale="it-IT", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "socio")
        page.goto(f"{live_server.url}/dashboard/me/")

        assert page.locator("#main-menu").is_visible()
        assert not page.locator(".menu-toggle").is_visible()
        assert _page_width(page) <= PHONE["width"] + 1
    finally:
        context.close()


def test_on_a_desktop_the_menu_is_shown_without_a_button(page, live_server, settled):
    log_in(page, live_server, "socio")
    page.goto(f"{live_server.url}/dashboard/me/")

    assert page.locator("#main-menu").is_visible()
    assert not page.locator(".menu-toggle").is_visible()
