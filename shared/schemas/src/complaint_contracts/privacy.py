"""Masking of personal contact data (§10): events carry masked contacts, never raw ones.

The same patterns serve two purposes: intake redacts free text before it leaves in an
event, and the test suite scans every record on every topic for anything that slipped.
"""

from __future__ import annotations

import re

# Boundaries exclude ASCII letters and digits only: Chinese text often puts a number
# right after a character (电话13812345678), and \b would not see a boundary there.
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
PHONE_PATTERN = re.compile(
    _NOT_ALNUM_BEFORE
    + r"(?:(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}"  # mainland mobile, optionally +86
    + r"|\+[1-9]\d{7,14})"  # any E.164 number
    + _NOT_ALNUM_AFTER
)
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
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


def redact_contacts(text: str) -> str:
    """Replace every phone number and e-mail address in free text by its masked form."""
    # Masking can leave a new address behind in pathological input (a@b.c@d.e → a***@b.c@d.e
    # still holds b.c@d.e), so mask until nothing changes; each pass shortens a match.
    while True:
        masked = EMAIL_PATTERN.sub(lambda m: mask_email(m.group(0)), text)
        if masked == text:
            break
        text = masked
    return PHONE_PATTERN.sub(lambda m: mask_phone(m.group(0)), text)


def find_contacts(text: str) -> list[str]:
    """Raw phone numbers and e-mail addresses found in text (masked ones do not match)."""
    return [m.group(0) for m in EMAIL_PATTERN.finditer(text)] + [
        m.group(0) for m in PHONE_PATTERN.finditer(text)
    ]
