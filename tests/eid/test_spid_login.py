"""SPID login against a local pysaml2 IdP: the whole round trip through the test client."""

from __future__ import annotations

import base64
import calendar
import time
from unittest import mock

from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice

from cer.audit.models import AuditEntry
from cer.eid import spid
from cer.eid.models import IdentityLink, UsedSamlMessage
from tests import factories
from tests.eid.conftest import SP_ENTITY_ID
from tests.eid.saml_idp import IDP_ENTITY_ID, make_idp


def _start(client, idp, next_url="/members/profile/"):
    answer = client.get("/eid/spid/login/", {"idp": IDP_ENTITY_ID, "next": next_url})
    assert answer.status_code == 302
    return idp.read_request(answer["Location"])


def test_a_member_logs_in_with_spid_level_2(client, spid_idp):
    member = factories.make_member()
    request = _start(client, spid_idp)
    answer = client.post(
        "/eid/spid/acs/", {"SAMLResponse": spid_idp.response(request, tax_code=member.fiscal_code)}
    )
    assert answer.status_code == 302, answer.content
    assert answer["Location"] == "/members/profile/"
    member.refresh_from_db()
    assert member.user is not None and member.user.is_active
    assert client.session["_auth_user_id"] == str(member.user.pk)
    assert client.session["eid.method"] == "spid"
    assert client.session["eid.level"] == 2
    link = IdentityLink.objects.get(user=member.user)
    assert (link.provider, link.level, link.issuer) == ("spid", 2, IDP_ENTITY_ID)
    assert UsedSamlMessage.objects.count() == 2  # the response and its assertion


def _post(client, saml_response):
    return client.post("/eid/spid/acs/", {"SAMLResponse": saml_response})


def _refusals(reason):
    return AuditEntry.objects.filter(code="eid.login.refused", changes__reason=reason).count()


def _logged_in(client):
    return "_auth_user_id" in client.session


def test_a_tampered_response_is_refused_and_logged(client, spid_idp, caplog):
    member = factories.make_member()
    request = _start(client, spid_idp)
    xml = base64.b64decode(spid_idp.response(request, tax_code=member.fiscal_code)).decode()
    assert ">Maria<" in xml
    forged = base64.b64encode(xml.replace(">Maria<", ">Mario<").encode()).decode()
    answer = _post(client, forged)
    assert answer.status_code == 400
    assert not _logged_in(client)
    assert _refusals("bad_signature") == 1
    assert "login refused (bad_signature)" in caplog.text
    assert not IdentityLink.objects.exists()


def test_a_response_signed_by_another_key_is_refused(client, spid_idp, tmp_path):
    member = factories.make_member()
    request = _start(client, spid_idp)
    other = tmp_path / "other"
    other.mkdir()
    impostor = make_idp(other)
    impostor.trust_sp((spid_idp.folder / "sp-metadata.xml").read_text())
    answer = _post(client, impostor.response(request, tax_code=member.fiscal_code))
    assert answer.status_code == 400
    assert _refusals("bad_signature") == 1
    assert not _logged_in(client)


def test_the_same_response_twice_is_a_replay(client, spid_idp):
    member = factories.make_member()
    request = _start(client, spid_idp)
    posted = spid_idp.response(request, tax_code=member.fiscal_code)
    assert _post(client, posted).status_code == 302
    client.logout()
    # A second browser that started its own login cannot use the first one's response.
    again = _start(client, spid_idp)
    assert again.id != request.id
    answer = _post(client, posted)
    assert answer.status_code == 400
    assert _refusals("replay") == 1
    assert not _logged_in(client)


def test_a_response_for_another_service_is_refused(client, spid_idp, settings):
    member = factories.make_member()
    # The IdP also knows another service provider, with our ACS address: its responses
    # carry that provider's entity ID as their audience.
    ours = (spid_idp.folder / "sp-metadata.xml").read_text()
    settings.SPID_ENTITY_ID = "https://other.example/"
    theirs = spid.signed_metadata()
    settings.SPID_ENTITY_ID = SP_ENTITY_ID
    spid_idp.trust_sp(ours, theirs)
    request = _start(client, spid_idp)
    answer = _post(
        client,
        spid_idp.response(request, tax_code=member.fiscal_code, audience="https://other.example/"),
    )
    assert answer.status_code == 400
    assert _refusals("wrong_audience") == 1
    assert not _logged_in(client)


def test_a_response_sent_to_another_address_is_refused(client, spid_idp):
    member = factories.make_member()
    request = _start(client, spid_idp)
    posted = spid_idp.response(
        request, tax_code=member.fiscal_code, destination="https://elsewhere.example/acs/"
    )
    answer = _post(client, posted)
    assert answer.status_code == 400
    assert _refusals("wrong_destination") == 1
    assert not _logged_in(client)


def test_an_expired_response_is_refused(client, spid_idp):
    member = factories.make_member()
    request = _start(client, spid_idp)
    posted = spid_idp.response(request, tax_code=member.fiscal_code)
    later = calendar.timegm(time.gmtime()) + 3600
    with mock.patch("saml2.time_util.utc_now", return_value=later):
        answer = _post(client, posted)
    assert answer.status_code == 400
    assert _refusals("expired") == 1
    assert not _logged_in(client)


def test_a_lower_level_than_asked_is_refused(client, spid_idp):
    member = factories.make_member()
    request = _start(client, spid_idp)
    answer = _post(client, spid_idp.response(request, tax_code=member.fiscal_code, level=1))
    assert answer.status_code == 400
    assert _refusals("level_too_low") == 1
    assert not _logged_in(client)


def test_a_response_to_a_request_this_browser_did_not_make_is_refused(client, spid_idp):
    member = factories.make_member()
    request = _start(client, spid_idp)
    posted = spid_idp.response(request, tax_code=member.fiscal_code)
    client.cookies.clear()
    answer = _post(client, posted)
    assert answer.status_code == 400
    assert _refusals("unsolicited") == 1
    assert not UsedSamlMessage.objects.exists()


def test_an_unknown_tax_code_makes_a_pending_account_that_cannot_log_in(client, spid_idp):
    code = factories.valid_personal_code(9001)
    request = _start(client, spid_idp)
    answer = _post(client, spid_idp.response(request, tax_code=code))
    assert answer.status_code == 403
    assert "in attesa di attivazione" in answer.content.decode()  # the page, in Italian
    assert not _logged_in(client)
    pending = User.objects.get(identity_links__provider="spid")
    assert not pending.is_active and not pending.has_usable_password()
    assert (pending.first_name, pending.last_name) == ("Maria", "Bianchi")
    # A manager registers the person as a member: the next login ties them and opens it.
    member = factories.make_member(fiscal_code=code)
    request = _start(client, spid_idp)
    answer = _post(client, spid_idp.response(request, tax_code=code))
    assert answer.status_code == 302
    member.refresh_from_db()
    assert member.user == pending
    pending.refresh_from_db()
    assert pending.is_active
    assert AuditEntry.objects.filter(code="eid.account.activated").count() == 1


def test_a_referente_at_level_2_is_not_asked_for_a_code(client, spid_idp, community):
    user = factories.make_user_with_role(community, role="REFERENTE", username="referente")
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    request = _start(client, spid_idp, next_url="/account/password/")
    answer = _post(client, spid_idp.response(request, tax_code=user.member.fiscal_code))
    assert answer["Location"] == "/account/password/"
    assert client.get("/account/password/").status_code == 200
    assert IdentityLink.objects.get().user == user


def test_a_referente_at_level_1_still_gives_the_code(client, spid_idp, community, settings):
    settings.SPID_LEVEL = 1
    user = factories.make_user_with_role(community, role="REFERENTE", username="referente")
    TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    request = _start(client, spid_idp)
    assert request.force_authn is None
    answer = _post(client, spid_idp.response(request, tax_code=user.member.fiscal_code, level=1))
    assert answer["Location"] == "/login/code/"
    assert not _logged_in(client)


def test_the_request_asks_the_level_with_force_authn(client, spid_idp):
    request = _start(client, spid_idp)
    assert request.force_authn == "true"
    context = request.requested_authn_context
    assert context.comparison == "minimum"
    assert [ref.text for ref in context.authn_context_class_ref] == [
        "https://www.spid.gov.it/SpidL2"
    ]
    assert request.issuer.name_qualifier == SP_ENTITY_ID
    assert request.attribute_consuming_service_index == "0"


def test_an_unknown_idp_is_refused(client, spid_idp):
    answer = client.get("/eid/spid/login/", {"idp": "https://evil.example/"})
    assert answer.status_code == 400
    assert _refusals("unknown_idp") == 1
