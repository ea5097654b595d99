"""The confirmation step: the first POST shows the consequences, only the second acts."""

from __future__ import annotations

from django.test import RequestFactory

from cer.core.confirm import confirmation_page, is_confirmed


def test_the_page_names_the_consequences_and_carries_the_form_back():
    request = RequestFactory().post("/x/", {"reason": "late GSE data", "period": "2025-06"})
    request.user = type("Anonymous", (), {"is_authenticated": False})()
    assert not is_confirmed(request)

    response = confirmation_page(
        request,
        title="Finalise June 2025",
        consequences=["The run becomes final and cannot be recomputed."],
        action_label="Finalise",
        cancel_url="/runs/1/",
    )

    page = response.content.decode()
    assert "The run becomes final and cannot be recomputed." in page
    assert 'name="reason" value="late GSE data"' in page
    assert 'name="period" value="2025-06"' in page
    assert 'name="confirmed" value="yes"' in page
    assert 'href="/runs/1/"' in page


def test_only_a_post_carrying_the_confirmation_is_confirmed():
    factory = RequestFactory()
    assert is_confirmed(factory.post("/x/", {"confirmed": "yes"}))
    assert not is_confirmed(factory.post("/x/", {"confirmed": "no"}))
    assert not is_confirmed(factory.get("/x/", {"confirmed": "yes"}))
