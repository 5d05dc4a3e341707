"""What the lost-link form accepts, and how its contact is compared.

The customer types the complaint's reference (``C-20261207-000042``; lower case, spaces
and full-width characters from a phone keyboard are forgiven) and the e-mail address or
mobile number the complaint was filed with. The contact is compared by its keyed hash,
normalised the way intake hashed it when the complaint came in
(:mod:`intake.complaints.domain.customers`), so no contact is decrypted to compare it and
``+86 138-1234-5678`` matches ``13812345678``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

from intake.complaints.domain.customers import keyed_hash, normalize_email, normalize_phone

MAX_FIELD: Final = 320
_REFERENCE: Final = re.compile(r"^C-\d{8}-\d{6,}$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ContactKind = Literal["email", "phone"]


@dataclass(frozen=True)
class EnteredContact:
    """A contact as typed, by its kind and keyed hash (never kept as typed)."""

    kind: ContactKind
    hash: str


@dataclass(frozen=True)
class RecoveryForm:
    """The checked form: ``reference`` and ``contact`` when both are usable, else the
    ``errors`` (field → words key); a well-formed form that matches nothing is not an
    error (the answer must not tell)."""

    reference: str | None
    contact: EnteredContact | None
    errors: dict[str, str]


def _plain(raw: str | None) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip()[:MAX_FIELD]


def normalise_reference(raw: str | None) -> str | None:
    """``c-20261207-000042 `` → ``C-20261207-000042``; None when it is not shaped like one."""
    text = re.sub(r"\s+", "", _plain(raw)).upper()
    return text if _REFERENCE.match(text) else None


def entered_contact(key: bytes, raw: str | None) -> EnteredContact | None:
    """An e-mail address (it has an ``@``) or a phone number (7 to 15 digits once
    normalised), by its keyed hash; None when it is neither."""
    text = _plain(raw)
    if "@" in text:
        if not _EMAIL.match(text):
            return None
        return EnteredContact("email", keyed_hash(key, "email", normalize_email(text)))
    if re.search(r"[^\d\s+()\-.]", text):
        return None
    digits = normalize_phone(text)
    if not 7 <= len(digits) <= 15:
        return None
    return EnteredContact("phone", keyed_hash(key, "phone", digits))


def check_form(key: bytes, *, reference: str | None, contact: str | None) -> RecoveryForm:
    """Both fields checked at once, so the page names every problem in one answer."""
    errors: dict[str, str] = {}
    checked_reference = normalise_reference(reference)
    if not _plain(reference):
        errors["reference"] = "recover.reference.empty"
    elif checked_reference is None:
        errors["reference"] = "recover.reference.invalid"
    checked_contact = entered_contact(key, contact)
    if not _plain(contact):
        errors["contact"] = "recover.contact.empty"
    elif checked_contact is None:
        errors["contact"] = "recover.contact.invalid"
    return RecoveryForm(checked_reference, checked_contact, errors)


def contact_matches(
    entered: EnteredContact, *, phone_hash: str | None, email_hash: str | None
) -> bool:
    """Whether the complaint was filed with the entered contact (same keyed hash)."""
    stored = email_hash if entered.kind == "email" else phone_hash
    return stored is not None and stored == entered.hash


def reference_rate_key(raw: str | None) -> str:
    """What the per-reference rate limit counts under: the normalised reference (a
    malformed one by a hash of what was typed, so it cannot pick another's count)."""
    reference = normalise_reference(raw)
    if reference is not None:
        return reference
    return "x" + hashlib.sha256(_plain(raw).encode()).hexdigest()[:24]


def recovery_rate_key(key: bytes, *, reference: str | None, contact: str | None) -> str:
    """What the per-reference limit on asking for codes counts under: the reference
    (:func:`reference_rate_key`) with the contact's keyed hash, the one the recovery
    matches on (a contact that is neither an address nor a number by a keyed hash of what
    was typed). Junk contacts typed with someone's reference spend their own count, not
    the customer's, and the real contact still gets at most the limit's codes."""
    entered = entered_contact(key, contact)
    contact_key = entered.hash if entered is not None else keyed_hash(key, "typed", _plain(contact))
    return f"{reference_rate_key(reference)}:{contact_key[:32]}"


def flow_hash(flow: str) -> str:
    """How a browser's recovery flow (the random value of its cookie) is stored."""
    return hashlib.sha256(f"recovery-flow:{flow}".encode()).hexdigest()
