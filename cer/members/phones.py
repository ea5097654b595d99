"""Phone numbers of members: checked with `phonenumbers`, kept in E.164.

A number is read as Italian unless it starts with its country code ("333 123 4567",
"+39 041 123 4567", "+44 20 7946 0958"); it must be a valid number, and it is stored as
E.164 ("+393331234567"). The SMS channel of the notification centre asks here (through
the lookup registered in MembersConfig.ready) for a user's mobile number.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_REGION = "IT"
INVALID = _("Phone: not a valid Italian or international number.")
# Types a text message can reach (Italian mobiles are MOBILE; some countries do not tell).
_TEXTABLE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def _parse(raw: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalise_phone(raw: str | None) -> str:
    """Return `raw` in E.164, or "" when blank. Raises ValidationError (code "phone")."""
    text = (raw or "").strip()
    if not text:
        return ""
    number = _parse(text)
    if number is None:
        raise ValidationError(INVALID, code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalised_or_kept(raw: str) -> str:
    """E.164 when `raw` is a valid number, else `raw` as it is (old records, on save)."""
    try:
        return normalise_phone(raw)
    except ValidationError:
        return raw


def mobile_number(raw: str) -> str | None:
    """`raw` in E.164 when it is a valid number that takes text messages, else None."""
    number = _parse((raw or "").strip()) if raw else None
    if number is None or phonenumbers.number_type(number) not in _TEXTABLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_number_of(user: Any) -> str | None:
    """The mobile number (E.164) on the user's member profile, or None."""
    # The reverse one-to-one raises an AttributeError subclass when there is no profile.
    member = getattr(user, "member", None) if user is not None else None
    return mobile_number(member.phone) if member is not None else None
