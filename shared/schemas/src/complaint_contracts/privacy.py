"""Masking of personal contact data (§10): events carry masked contacts, never raw ones.

The same scanner serves two purposes: intake redacts free text before it leaves in an
event (``redact_contacts``), and the test suite scans every record on every topic for
anything that slipped (``find_contacts``). It finds

* e-mail addresses (also with a full-width ``＠`` or full-width letters);
* mainland mobile numbers, with or without ``+86``/``86``/``0086``/``(+86)`` and with
  spaces or dashes between the groups (``+86 138 0013 8000``), and any E.164 number;
* mainland landlines with their area code (``010-12345678``, ``0755-1234567``,
  ``(021) 6123 4567``);
* mainland ID-card numbers: 18 digits whose GB 11643 check character (0-9 or X) holds and
  whose birth date is a date, or the old 15-digit form with a date in it;
* bank-card numbers: 13-19 digits, written together or in groups of four separated by
  spaces or dashes, whose Luhn check holds and whose first digit is that of a card
  network (2-6 or 9: Mastercard, Amex/JCB, Visa, Mastercard, UnionPay/Discover, the
  older domestic cards). Numbers starting with 0, 1, 7 or 8 are left alone so that epoch
  timestamps in milliseconds and similar ids are not taken for cards.

Normalisation. The scanner works on a normalised copy of the text in which every
character whose NFKC form is one ASCII character is replaced by it (full-width digits,
letters, ``＠``, ``－``, ``（）``, the ideographic and no-break spaces, mathematical
digits, ...). Because every replacement is one character for one character, positions
in the copy are positions in the original, so ``redact_contacts`` masks in the ORIGINAL
text and leaves everything around a contact exactly as it was. Characters whose NFKC
form is several characters (``⑴``, ``㉑``, ``⒈``) are not normalised: they do not
occur in written phone numbers. A masked contact is written in ASCII (``138****5678``).

Masking keeps the first three and last four digits of mobiles, ID cards and bank cards
(``138****5678``, ``110***********1234``), the area code of landlines
(``010-********``), the first character and the domain of e-mail addresses
(``z***@example.com``). Masked output never matches again:
``find_contacts(redact_contacts(x)) == []`` for every ``x``.

Every pattern runs in linear time: the e-mail pattern starts only where a run of
address characters starts and its quantifiers are possessive, so no input makes it
backtrack over the same characters twice.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# --- normalisation ------------------------------------------------------------------------

# The Unicode blocks (256-code-point pages) that hold characters whose NFKC form is one ASCII
# character: Latin-1, spacing modifiers, super/subscripts, letterlike symbols, enclosed
# alphanumerics, CJK symbols, small form variants, full-width forms, mathematical
# alphanumerics, segmented digits. The table itself is computed from unicodedata.
_COMPAT_PAGES = (
    *range(0x00, 0x04),
    0x1D,
    *range(0x1F, 0x22),
    0x24,
    0x2C,
    0x30,
    0xA7,
    0xFB,
    *range(0xFE, 0x100),
    0x107,
    *range(0x1D4, 0x1D8),
    0x1F1,
    0x1FB,
)


# The characters the patterns read (everything else is a boundary alike): only these are
# normalised, so that ordinary full-width punctuation (，：；！？) costs nothing.
_RELEVANT = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._%+-() @")


def _compat_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for page in _COMPAT_PAGES:
        for cp in range(page << 8, (page + 1) << 8):
            if cp < 0x80:
                continue
            char = chr(cp)
            norm = unicodedata.normalize("NFKC", char)
            if norm != char and norm in _RELEVANT:
                table[cp] = norm
    return table


_COMPAT = _compat_table()


def _char_class(codes: list[int]) -> str:
    """A regex character class of the code points, as ranges (the regex engine tests a
    character against a short list of ranges much faster than against a long list)."""
    ranges: list[list[int]] = []
    for cp in sorted(codes):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]"


# Two classes: the regex engine tests a character against a class of the Basic
# Multilingual Plane with a bitmap, but against one with astral characters range by range.
_HAS_COMPAT = re.compile(_char_class([cp for cp in _COMPAT if cp <= 0xFFFF]) + "+")
_HAS_COMPAT_ASTRAL = re.compile(_char_class([cp for cp in _COMPAT if cp > 0xFFFF]) + "+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _normalise(text: str) -> str:
    """NFKC for every character whose NFKC form is one character the patterns read.

    The result has the same length as text: position i is character i of text.
    """
    if text.isascii():
        return text
    if _HAS_COMPAT.search(text):
        text = _HAS_COMPAT.sub(_normalise_run, text)
    if _ASTRAL.search(text) and _HAS_COMPAT_ASTRAL.search(text):
        text = _HAS_COMPAT_ASTRAL.sub(_normalise_run, text)
    return text


def _normalise_run(match: re.Match[str]) -> str:
    return match.group().translate(_COMPAT)


# --- patterns (they run on the normalised text) ------------------------------------------

# Boundaries exclude ASCII letters and digits only: Chinese text often puts a number
# right after a character (电话13812345678), and \b would not see a boundary there.
_B = r"(?<![0-9A-Za-z])"
_E = r"(?![0-9A-Za-z])"

_LOCAL = r"A-Za-z0-9._%+\-"
# Zero-width, so that chained addresses (a@b.c@d.e) are all found; it starts only where a
# run of address characters starts, and possessive quantifiers never give back what they
# took: each character is read a bounded number of times.
_EMAIL = re.compile(rf"(?<![{_LOCAL}])(?=([{_LOCAL}]++)@([A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)++))")
_MOBILE = re.compile(
    _B + r"(?:(?:\(\+?86\)|\+86|0086|86)[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}" + _E
)
_E164 = re.compile(_B + r"\+[1-9](?:[ -]?[0-9]){7,14}" + _E)
# Area codes: 010 and 02x have 8-digit local numbers; 03xx-09xx have 7 or 8. Local numbers
# do not start with 0.
_LANDLINE = re.compile(
    _B
    + r"(?P<area>\((?:010|02[0-9])\)|(?:010|02[0-9]))(?P<local>[ -]?[1-9][0-9]{3}[ -]?[0-9]{4})"
    + _E
    + "|"
    + _B
    + r"(?P<area4>\(0[3-9][0-9]{2}\)|0[3-9][0-9]{2})(?P<local4>[ -]?[1-9][0-9]{2,3}[ -]?[0-9]{4})"
    + _E
)
_ID_CARD = re.compile(_B + r"(?:[0-9]{6}(?P<s>[ -]?)[0-9]{8}(?P=s)[0-9]{3}[0-9Xx]|[0-9]{15})" + _E)
_CARD_RUN = re.compile(_B + r"[0-9]{13,19}" + _E)
_CARD_GROUPS = re.compile(
    _B + r"[0-9]{4}(?P<s>[ -])[0-9]{4}(?:(?P=s)[0-9]{4}){1,2}(?:(?P=s)[0-9]{1,4})?" + _E
)

# Where a number can be: a run of the characters number patterns read, started by one a
# number can start with. Every pattern below runs only inside such a run with 8 digits or
# more (the shortest contact, an E.164 number, has 8), which keeps prose cheap to scan.
_CLUSTER = re.compile(r"[0-9(+][0-9 ()+\-Xx]*")
_NOT_DIGITS = str.maketrans("", "", " ()+-Xx")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CARD_FIRST_DIGITS = frozenset("234569")


def _plausible_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31 and 1800 <= year <= 2199


def _id_card_holds(digits: str) -> bool:
    """GB 11643: the check character of an 18-digit number; a date in a 15-digit one."""
    if len(digits) == 15:
        return digits[0] in "12345678" and _plausible_date(
            1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
        )
    total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == digits[17].upper() and _plausible_date(
        int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
    )


def _luhn_holds(digits: str) -> bool:
    backwards = digits[::-1]
    total = sum(map(int, backwards[0::2])) + sum(_LUHN_DOUBLED[d] for d in backwards[1::2])
    return total % 10 == 0


_LUHN_DOUBLED = {str(d): 2 * d - 9 if d > 4 else 2 * d for d in range(10)}


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in _CARD_FIRST_DIGITS and _luhn_holds(digits)


# --- masking ------------------------------------------------------------------------------


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", _normalise(phone))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    elif digits.startswith("0086") and len(digits) == 15:
        digits = digits[4:]
    return digits


def mask_phone(phone: str) -> str:
    """``+8613812345678`` → ``138****5678``; short numbers keep only their last two digits."""
    digits = _digits(phone)
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def mask_email(email: str) -> str:
    """``zhang.wei@example.com`` → ``z***@example.com``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _mask_number(digits: str) -> str:
    """An ID-card or bank-card number: ``110***********1234`` (first three, last four)."""
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _mask_landline(area: str, local: str) -> str:
    """``010-12345678`` → ``010-********``: the area code stays, the digits go."""
    return area + re.sub(r"[0-9]", "*", local)


class _Found(NamedTuple):
    start: int
    end: int
    masked: str
    email_end: int | None  # an e-mail address: where it ends (beyond `end` when chained)


def _find_emails(norm: str) -> list[_Found]:
    """E-mail addresses. Their local parts never overlap; an address's domain can be the
    next one's local part (a@b.c@d.e): then only the local parts are masked."""
    if "@" not in norm:
        return []
    emails = [(m.start(1), m.end(1), m.end(2)) for m in _EMAIL.finditer(norm)]
    found: list[_Found] = []
    for i, (start, at, end) in enumerate(emails):
        if i + 1 < len(emails) and emails[i + 1][0] < end:
            found.append(_Found(start, at, norm[start] + "***", end))
        else:
            found.append(_Found(start, end, mask_email(norm[start:end]), end))
    return found


def _find_cards(norm: str, pos: int, endpos: int) -> list[tuple[int, int, str]]:
    found = [
        (m.start(), m.end(), _mask_number(m.group()))
        for m in _CARD_RUN.finditer(norm, pos, endpos)
        if _is_card(m.group())
    ]
    for m in _CARD_GROUPS.finditer(norm, pos, endpos):
        # The longest run of whole groups whose digits make a card (a card number can be
        # followed by another number written the same way).
        sep = m.group("s")
        groups = m.group().split(sep)
        for n in range(len(groups), 2, -1):
            digits = "".join(groups[:n])
            if _is_card(digits):
                end = m.start() + len(sep.join(groups[:n]))
                found.append((m.start(), end, _mask_number(digits)))
                break
    return found


def _find_numbers_in(
    norm: str, pos: int, endpos: int, digits: int
) -> list[tuple[int, int, int, str]]:
    """Numbers as (start, priority, end, masked); at the same start the first kind wins.

    ``digits`` is how many digits the run has: kinds that need more are not looked for.
    """
    numbers: list[tuple[int, int, int, str]] = []
    if digits >= 11:
        numbers += [
            (m.start(), 0, m.end(), mask_phone(m.group()))
            for m in _MOBILE.finditer(norm, pos, endpos)
        ]
    if digits >= 15:
        for m in _ID_CARD.finditer(norm, pos, endpos):
            number = re.sub(r"[ -]", "", m.group()).upper()
            if _id_card_holds(number):
                numbers.append((m.start(), 1, m.end(), _mask_number(number)))
    if digits >= 13:
        numbers += [
            (start, 2, end, masked) for start, end, masked in _find_cards(norm, pos, endpos)
        ]
    if digits >= 10:
        for m in _LANDLINE.finditer(norm, pos, endpos):
            area = m.group("area") or m.group("area4")
            local = m.group("local") or m.group("local4")
            numbers.append((m.start(), 3, m.end(), _mask_landline(area, local)))
    if "+" in norm[pos:endpos]:
        numbers += [
            (m.start(), 4, m.end(), mask_phone(m.group()))
            for m in _E164.finditer(norm, pos, endpos)
        ]
    return numbers


def _find_numbers(norm: str) -> list[tuple[int, int, int, str]]:
    numbers: list[tuple[int, int, int, str]] = []
    for cluster in _CLUSTER.finditer(norm):
        start, end = cluster.span()
        if end - start < 8:
            continue
        digits = len(cluster.group().translate(_NOT_DIGITS))
        if digits >= 8:
            # One character more: the patterns' look-ahead must see what follows the run
            # (it is never part of a match: no pattern reads a character outside the run).
            numbers += _find_numbers_in(norm, start, min(end + 1, len(norm)), digits)
    return numbers


# A UUID (ids of complaints, events, clocks) is no number: its groups may be all digits by
# chance (``…-0850-7073-9847-…``, ``…-061766231295``) and read as a landline or a card.
# No boundaries: ids run into other text too (header values joined, ``cr_``-prefixed refs).
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def _without_uuids(norm: str) -> str:
    """norm with every UUID blanked out (same length): numbers are looked for in this."""
    if "-" not in norm:
        return norm
    return _UUID.sub(lambda m: "#" * len(m.group()), norm)


def _scan(text: str) -> list[_Found]:
    """Every contact in text, without overlaps, in the order of the text."""
    norm = _normalise(text)
    numbers = _find_numbers(_without_uuids(norm))
    spans = sorted(
        [(f.start, -1, f.end, f.masked, f.email_end) for f in _find_emails(norm)]
        + [(start, prio, end, masked, None) for start, prio, end, masked in numbers],
        key=lambda span: (span[0], span[1]),
    )
    kept: list[_Found] = []
    last_end = 0
    for start, _prio, end, masked, email_end in spans:
        if start >= last_end:
            kept.append(_Found(start, end, masked, email_end))
            last_end = end
    return kept


def _redact_once(text: str, found: list[_Found]) -> str:
    parts: list[str] = []
    pos = 0
    for f in found:
        parts += [text[pos : f.start], f.masked]
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)


def redact_contacts(text: str) -> str:
    """Replace every contact in free text by its masked form, in place.

    A masked contact can in pathological input complete a new one with its neighbours
    (the kept last four digits of an ID card followed by ``-5678-9012-3456``), so redact
    until nothing is found; every pass replaces digits or letters by ``*``, so it ends,
    and ordinary text takes one pass (and one more scan to confirm).
    """
    while found := _scan(text):
        text = _redact_once(text, found)
    return text


def find_contacts(text: str) -> list[str]:
    """Raw contacts found in text, as written there: e-mail addresses first, then numbers.

    Masked ones (``138****5678``, ``z***@example.com``) do not match.
    """
    found = _scan(text)
    return [text[f.start : f.email_end] for f in found if f.email_end is not None] + [
        text[f.start : f.end] for f in found if f.email_end is None
    ]
