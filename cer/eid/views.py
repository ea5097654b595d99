"""The SPID and CIE pages: SP metadata, the way out to the provider, the way back.

Both ways back end in `_log_in`, which links the identity (cer.eid.linking) and hands
the session to cer.accounts. Every refusal is logged with its reason and audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import logout as django_logout
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from cer.accounts.login import needs_code
from cer.accounts.policy import second_factor_required
from cer.accounts.views import (
    AFTER_SECOND_FACTOR_KEY,
    PENDING_KEY,
    STRONG_LOGIN_KEY,
    complete_login,
    safe_next_url,
)
from cer.audit.services import record
from cer.core.access import public
from cer.core.net import client_ip
from cer.eid import cie, spid
from cer.eid.linking import VerifiedIdentity, link_identity
from cer.eid.models import Provider

log = logging.getLogger("cer.eid")

# The SAML requests a browser started travel in this signed cookie, not in the session:
# the IdP posts the response cross-site, and a SameSite=Lax session cookie is not sent
# with such a POST.
SPID_COOKIE = "cer_spid_requests"
SPID_COOKIE_SALT = "cer.eid.spid.requests"
SPID_REQUEST_LIFETIME = dt.timedelta(minutes=10)
CIE_SESSION_KEY = "eid.cie.pending"
# What the session records about how it began (docs/spid-cie.md).
METHOD_KEY = "eid.method"
LEVEL_KEY = "eid.level"
STRONG_LEVEL = 2


def _refused(request: HttpRequest, provider: str, reason: str, detail: str) -> HttpResponse:
    log.warning("%s login refused (%s): %s", provider, reason, detail)
    record(
        actor=None,
        code="eid.login.refused",
        now=timezone.now(),
        changes={
            "provider": provider,
            "reason": reason,
            "detail": detail[:500],
            "ip": client_ip(request),
        },
    )
    return render(request, "eid/refused.html", {"reason": reason}, status=400)


def _log_in(request: HttpRequest, identity: VerifiedIdentity, next_url: str) -> HttpResponse:
    now = timezone.now()
    outcome = link_identity(identity, now=now)
    user = outcome.user
    if not outcome.may_log_in:
        log.info("%s login of a pending account (user %s)", identity.provider, user.pk)
        return render(request, "eid/pending.html", status=403)
    record(
        actor=user,
        code="eid.login.succeeded",
        now=now,
        target=user,
        changes={"provider": identity.provider, "level": identity.level, "how": outcome.how},
    )
    strong = identity.level >= STRONG_LEVEL
    if request.user.is_authenticated:
        django_logout(request)  # someone else's session on this browser ends first
    if not strong and needs_code(user):
        # A level-1 identity is a password, no more: the code is still asked.
        request.session.cycle_key()
        request.session[PENDING_KEY] = {"user": user.pk, "at": now.isoformat(), "next": next_url}
        request.session[METHOD_KEY] = identity.provider
        request.session[LEVEL_KEY] = identity.level
        return redirect("login-code")
    complete_login(request, user, device=None)
    request.session[METHOD_KEY] = identity.provider
    request.session[LEVEL_KEY] = identity.level
    if strong:
        request.session[STRONG_LOGIN_KEY] = f"{identity.provider}:L{identity.level}"
    elif second_factor_required(user):
        request.session[AFTER_SECOND_FACTOR_KEY] = next_url
        return redirect("accounts:second-factor")
    return redirect(safe_next_url(request, next_url))


# --- SPID ------------------------------------------------------------------------------


def _spid_enabled() -> None:
    if not spid.configured():
        raise Http404("SPID is off")


@public
@require_GET
def spid_metadata(request: HttpRequest) -> HttpResponse:
    _spid_enabled()
    return HttpResponse(spid.signed_metadata(), content_type="application/samlmetadata+xml")


@public
@require_GET
@never_cache
def spid_login(request: HttpRequest) -> HttpResponse:
    _spid_enabled()
    idp = request.GET.get("idp", "")
    next_url = request.GET.get("next", "")
    level = settings.SPID_LEVEL
    try:
        request_id, location = spid.authn_request(idp=idp, level=level, relay_state="")
    except spid.SpidRefused as refused:
        return _refused(request, Provider.SPID, refused.reason, refused.detail)
    pending = _spid_pending(request)
    pending[request_id] = {
        "idp": idp,
        "level": level,
        "next": next_url,
        "at": timezone.now().isoformat(),
    }
    response = redirect(location)
    response.set_cookie(
        SPID_COOKIE,
        signing.dumps(pending, salt=SPID_COOKIE_SALT, compress=True),
        max_age=int(SPID_REQUEST_LIFETIME.total_seconds()),
        secure=not settings.DEBUG,
        httponly=True,
        samesite="None" if not settings.DEBUG else "Lax",
    )
    return response


def _spid_pending(request: HttpRequest) -> dict[str, dict[str, Any]]:
    """This browser's SAML requests still waiting for an answer (the newest few)."""
    try:
        pending = signing.loads(
            request.COOKIES.get(SPID_COOKIE, ""),
            salt=SPID_COOKIE_SALT,
            max_age=SPID_REQUEST_LIFETIME,
        )
    except (signing.BadSignature, ValueError):
        return {}
    if not isinstance(pending, dict):
        return {}
    newest = sorted(pending.items(), key=lambda item: item[1].get("at", ""))[-4:]
    return dict(newest)


@public
@csrf_exempt  # posted by the IdP; the signed response and the request cookie stand for it
@require_POST
@never_cache
def spid_acs(request: HttpRequest) -> HttpResponse:
    _spid_enabled()
    pending = _spid_pending(request)
    try:
        request_id, found = spid.validate_response(
            saml_response=request.POST.get("SAMLResponse", ""),
            pending=pending,
            now=timezone.now(),
        )
    except spid.SpidRefused as refused:
        return _refused(request, Provider.SPID, refused.reason, refused.detail)
    identity = VerifiedIdentity(
        provider=Provider.SPID,
        issuer=found.issuer,
        subject=found.subject,
        tax_code=found.tax_code,
        first_name=found.first_name,
        last_name=found.last_name,
        email=found.email,
        level=found.level,
    )
    response = _log_in(request, identity, pending[request_id].get("next", ""))
    response.delete_cookie(SPID_COOKIE, samesite="None" if not settings.DEBUG else "Lax")
    return response


# --- CIE -------------------------------------------------------------------------------


def _cie_enabled() -> None:
    if not cie.configured():
        raise Http404("CIE is off")


@public
@require_GET
@never_cache
def cie_login(request: HttpRequest) -> HttpResponse:
    _cie_enabled()
    try:
        url, kept = cie.start(level=settings.CIE_LEVEL)
    except (cie.CieRefused, OSError, ValueError) as error:
        reason = getattr(error, "reason", "provider_unreachable")
        return _refused(request, Provider.CIE, reason, str(error))
    kept["next"] = request.GET.get("next", "")
    kept["at"] = timezone.now().isoformat()
    request.session[CIE_SESSION_KEY] = kept
    return redirect(url)


@public
@require_GET
@never_cache
def cie_callback(request: HttpRequest) -> HttpResponse:
    _cie_enabled()
    kept = request.session.pop(CIE_SESSION_KEY, None) or {}
    started = dt.datetime.fromisoformat(kept.get("at", "1970-01-01T00:00:00+00:00"))
    if timezone.now() - started > cie.PENDING_LIFETIME:
        kept = {}
    try:
        found = cie.finish(params=request.GET.dict(), kept=kept)
    except cie.CieRefused as refused:
        return _refused(request, Provider.CIE, refused.reason, refused.detail)
    except OSError as error:
        return _refused(request, Provider.CIE, "provider_unreachable", str(error))
    identity = VerifiedIdentity(
        provider=Provider.CIE,
        issuer=found.issuer,
        subject=found.subject,
        tax_code=found.tax_code,
        first_name=found.first_name,
        last_name=found.last_name,
        email=found.email,
        level=found.level,
    )
    return _log_in(request, identity, kept.get("next", ""))


@public
@require_GET
def spid_providers(request: HttpRequest) -> HttpResponse:
    """The IdP picker as its own page (the login page shows the same list)."""
    _spid_enabled()
    return render(
        request,
        "eid/providers.html",
        {"providers": spid.identity_providers(), "next": request.GET.get("next", "")},
    )
