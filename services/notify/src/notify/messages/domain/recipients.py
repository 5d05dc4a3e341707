"""How a recipient is shown and remembered without keeping the raw address (§10)."""

from __future__ import annotations

import hashlib
import hmac

from complaint_contracts.privacy import mask_email, mask_phone

from notify.sms.domain.numbers import NotAMobileNumber, normalise_mainland_mobile

MAX_ADDRESS_LENGTH = 320


def normalize_address(address: str) -> str:
    return address.strip().lower()


def masked_address(address: str) -> str:
    """``zhang.wei@example.com`` → ``z***@example.com``: what rows, events and logs hold."""
    return mask_email(normalize_address(address))


def recipient_hash(*, key: bytes, address: str) -> str:
    """Keyed hash of the address: the same recipient is recognisable across deliveries,
    but the address cannot be read back without the key."""
    digest = hmac.new(key, normalize_address(address).encode(), hashlib.sha256)
    return digest.hexdigest()


def looks_like_address(address: str | None) -> bool:
    """Good enough to hand to SMTP; the server has the last word."""
    if not address or len(address) > MAX_ADDRESS_LENGTH:
        return False
    local, at, domain = address.strip().rpartition("@")
    return bool(at and local and "." in domain and " " not in address.strip())


def normalize_phone(phone: str) -> str:
    """A phone number as it is hashed and matched (an inbound SMS's sender against the
    numbers notify wrote to): a mainland mobile number as E.164, anything else its digits."""
    try:
        return normalise_mainland_mobile(phone)
    except NotAMobileNumber:
        return "".join(c for c in phone if c.isdigit())


def masked_phone(phone: str) -> str:
    """``+8613812345678`` → ``138****5678``-style: what rows, events and logs hold."""
    return mask_phone(phone)


def phone_hash(*, key: bytes, phone: str) -> str:
    """Keyed hash of a phone number (:func:`recipient_hash` for numbers)."""
    return hmac.new(key, normalize_phone(phone).encode(), hashlib.sha256).hexdigest()
