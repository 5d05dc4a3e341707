"""Is this a number an SMS can go to? Mainland-China mobile numbers only, normalised to E.164.

The ``phonenumbers`` package (Google's libphonenumber metadata) is not installed in this
repository, so this module does not claim to validate numbers of any region. It applies the
mainland-China numbering plan (MIIT) that governs the numbers our customers give, with
default region CN:

1. NFKC-normalise (full-width digits and ``＋`` typed with a Chinese input method become
   ASCII), then drop the separators people write: spaces, ``-``, ``.``, ``(``, ``)``.
   Anything else that is not a digit (after one leading ``+``) makes the number invalid.
2. Country code: ``+86`` / ``0086`` / a bare ``86`` before 11 digits is China; any other
   ``+`` or ``00`` prefix is another country and is refused as not mainland China.
3. What is left must be the 11-digit national number. A national number starting with ``0``
   is a landline (trunk prefix and area code, e.g. ``010-12345678``), and so is one after
   ``+86`` that starts with an area code (``+86 10 ...`` Beijing, ``+86 21 ...``, ``2``-``9``);
   a mobile number is ``1`` followed by ``3``-``9`` and nine digits (the 13x-19x blocks).

Finer allocation inside 13x-19x changes as ranges are handed out, so it is left to the
provider (Alibaba Cloud answers ``isv.MOBILE_NUMBER_ILLEGAL`` for an unallocated number,
a permanent failure); refusing a newly allocated range here would silently drop customers.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

SEPARATORS: Final = re.compile(r"[\s\-.()]")
MOBILE: Final = re.compile(r"1[3-9][0-9]{9}")
CHINA_COUNTRY_CODE: Final = "86"
MAX_INPUT: Final = 40

Reason = Literal["empty", "invalid", "landline", "not_mainland_china", "not_mobile"]

MESSAGES: Final[dict[Reason, str]] = {
    "empty": "no phone number was given",
    "invalid": "the phone number has characters or a length no phone number has",
    "landline": "the phone number is a landline, which cannot receive SMS",
    "not_mainland_china": "only mainland-China (+86) mobile numbers can receive SMS",
    "not_mobile": "the phone number is not a mainland-China mobile number (1[3-9] + 9 digits)",
}


class NotAMobileNumber(ValueError):
    """The number cannot receive our SMS; ``reason`` says why (one of :data:`Reason`),
    the message says it in words. The number itself is never in the message."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(MESSAGES[reason])
        self.reason: Reason = reason


def normalise_mainland_mobile(raw: str) -> str:
    """``"138 1234 5678"``, ``"+86 138-1234-5678"``, ``"008613812345678"`` →
    ``"+8613812345678"``; anything that is not a mainland-China mobile number raises
    :class:`NotAMobileNumber` with the reason."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise NotAMobileNumber("empty")
    if len(text) > MAX_INPUT:
        raise NotAMobileNumber("invalid")
    compact = SEPARATORS.sub("", text)
    international = compact.startswith("+")
    digits = compact[1:] if international else compact
    if not digits.isascii() or not digits.isdigit():
        raise NotAMobileNumber("invalid")
    if digits.startswith("00"):
        international, digits = True, digits[2:]
    if international:
        if not digits.startswith(CHINA_COUNTRY_CODE):
            raise NotAMobileNumber("not_mainland_china")
        digits = digits[len(CHINA_COUNTRY_CODE) :]
    elif len(digits) == 13 and digits.startswith(CHINA_COUNTRY_CODE):
        # "8613812345678": the country code written without + (as Alibaba Cloud accepts it).
        digits = digits[len(CHINA_COUNTRY_CODE) :]
    if digits.startswith("0") or (international and _international_landline(digits)):
        raise NotAMobileNumber("landline")
    if len(digits) != 11:
        raise NotAMobileNumber("not_mobile" if digits.startswith("1") else "invalid")
    if not MOBILE.fullmatch(digits):
        raise NotAMobileNumber("not_mobile")
    return f"+{CHINA_COUNTRY_CODE}{digits}"


def _international_landline(national: str) -> bool:
    """After ``+86`` the trunk ``0`` is dropped: Beijing ``10`` + 8 digits, or an area code
    starting 2-9 (``21`` Shanghai, ``755`` Shenzhen ...)."""
    return (national.startswith("10") and len(national) == 10) or national[:1] in set("23456789")


def is_mainland_mobile(raw: str) -> bool:
    """True when :func:`normalise_mainland_mobile` accepts the number."""
    try:
        normalise_mainland_mobile(raw)
    except NotAMobileNumber:
        return False
    return True
