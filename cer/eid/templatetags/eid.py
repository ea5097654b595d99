"""`{% eid_login_buttons next %}`: the "Entra con SPID" and "Entra con CIE" buttons the
login page shows when those logins are on; nothing when they are off."""

from __future__ import annotations

from typing import Any

from django import template

from cer.eid import cie, spid

register = template.Library()


@register.inclusion_tag("eid/login_buttons.html")
def eid_login_buttons(next_url: str = "") -> dict[str, Any]:
    spid_on = spid.configured()
    return {
        "spid_on": spid_on,
        "cie_on": cie.configured(),
        "providers": spid.identity_providers() if spid_on else [],
        "next": next_url,
    }
