"""How many SMS a text takes: the GSM standard's rule, and Alibaba Cloud's billing rule.

**GSM rule** (3GPP TS 23.038 alphabets, TS 23.040 concatenation). A message is encoded in
the GSM 7-bit default alphabet when every character is in it (its basic table, or its
extension table, whose characters ``^ { } [ ] ~ \\ | €`` and form feed take two septets, an
escape and the character); otherwise in UCS-2 (UTF-16 code units, so a character outside the
Basic Multilingual Plane, e.g. an emoji, takes two). Chinese text is always UCS-2.
One SMS holds 140 octets: 160 GSM-7 septets or 70 UCS-2 units. A longer text is sent as
concatenated parts whose user-data header takes 6 octets, leaving 153 septets or 67 units
each. A part never splits an escape pair or a surrogate pair, so parts are packed greedily
character by character; an empty text is still one message.

**Alibaba Cloud rule** (domestic SMS, the "短信内容长度计算规则" of its SMS billing
documentation). Length = the signature as the provider adds it, ``【签名】`` with its brackets,
plus the template's text; every Chinese character, letter, digit and punctuation mark,
full-width or half-width, counts 1 (we count a character outside the BMP as 2, its UCS-2
units, which can only over-estimate). At most 70 → one message; more → a long message
billed at 67 per part, ``ceil(length / 67)``. A message may be at most 500 long.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE: Final = 160
GSM7_CONCATENATED: Final = 153
UCS2_SINGLE: Final = 70
UCS2_CONCATENATED: Final = 67

ALIYUN_SINGLE: Final = 70
ALIYUN_CONCATENATED: Final = 67
ALIYUN_MAX_LENGTH: Final = 500

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class Segments:
    """``units``: septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text;
    ``parts``: the SMS it is sent as."""

    encoding: Encoding
    units: int
    parts: int


def is_gsm7(text: str) -> bool:
    """Every character is in the GSM 7-bit default alphabet or its extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [ucs2_units(ch) for ch in text]


def ucs2_units(text: str) -> int:
    """UTF-16 code units: 1 per BMP character, 2 per character beyond it."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def count_segments(text: str) -> Segments:
    """The encoding, length in units and number of parts of ``text`` (GSM rule above)."""
    encoding = encoding_of(text)
    costs = _unit_costs(text, encoding)
    units = sum(costs)
    if encoding == "GSM-7":
        single, concatenated = GSM7_SINGLE, GSM7_CONCATENATED
    else:
        single, concatenated = UCS2_SINGLE, UCS2_CONCATENATED
    if units <= single:
        return Segments(encoding, units, 1)
    parts, room = 1, concatenated
    for cost in costs:
        if cost > room:  # the escape or surrogate pair moves whole to the next part
            parts, room = parts + 1, concatenated
        room -= cost
    return Segments(encoding, units, parts)


def aliyun_length(sign_name: str, text: str) -> int:
    """The length Alibaba Cloud bills: ``【sign_name】`` plus the text (rule above)."""
    return ucs2_units(f"【{sign_name}】") + ucs2_units(text)


def aliyun_parts(sign_name: str, text: str) -> int:
    """Messages Alibaba Cloud bills for a domestic SMS: 1 up to 70, else ceil(length / 67)."""
    length = aliyun_length(sign_name, text)
    if length <= ALIYUN_SINGLE:
        return 1
    return math.ceil(length / ALIYUN_CONCATENATED)


def aliyun_too_long(sign_name: str, text: str) -> bool:
    """Longer than the 500 Alibaba Cloud accepts for one message."""
    return aliyun_length(sign_name, text) > ALIYUN_MAX_LENGTH
