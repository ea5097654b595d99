"""Swagger UI at /api/docs/ renders the schema's operations under the site-wide CSP."""

from __future__ import annotations

import pytest

from cer.core.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Violations are also reported as DOM events: record them, whatever the console says.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_swagger_ui_renders_the_operations_without_csp_violations(page, live_server):
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.add_init_script(RECORD_VIOLATIONS)

    response = page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    # Swagger UI renders the operations near the viewport only: scroll down to the login.
    login = page.locator(".opblock-summary-path", has_text="/api/v1/auth/login").first
    for _ in range(100):
        if login.count():
            break
        page.mouse.wheel(0, 500)
        page.wait_for_timeout(100)
    login.click()
    page.wait_for_selector(".opblock-body .try-out__btn", timeout=10_000)

    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/auth/login" in paths
    assert page.evaluate("window.cspViolations") == []
    assert problems == []


def test_the_plain_operation_list_stays_available_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()

    page.goto(f"{live_server.url}/api/docs/")
    page.click("text=Plain list of operations")

    assert page.url.endswith("/api/docs/list/")
    assert page.locator("code", has_text="/api/v1/documents/{id}/download").count() == 1
    context.close()
