"""How a customer is identified across channels without keeping the raw contact in events.

A customer reference is a keyed hash (HMAC-SHA256) of the strongest identifier given: the
front end's customer id, else the phone number, else the e-mail address. The same key
gives the same reference on every channel, and without the key it cannot be reversed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from complaint_contracts.privacy import mask_email, mask_phone


def normalize_phone(phone: str) -> str:
    """Mainland numbers the same whichever way they were written: +86…, 0086…, 86… or bare."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("0086") and len(digits) == 15:
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def normalize_email(email: str) -> str:
    return email.strip().lower()


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def customer_ref(
    key: bytes, *, customer_id: str | None, phone: str | None, email: str | None
) -> str:
    if customer_id:
        digest = keyed_hash(key, "id", customer_id.strip())
    elif phone:
        digest = keyed_hash(key, "phone", normalize_phone(phone))
    elif email:
        digest = keyed_hash(key, "email", normalize_email(email))
    else:  # the request schema requires one of the three
        raise ValueError("a customer needs an id, a phone number or an e-mail address")
    return f"cus_{digest[:32]}"


def identity_keys(
    key: bytes, *, customer_id: str | None, phone: str | None, email: str | None
) -> tuple[str, ...]:
    """One ``kind:hash`` key per identifier given, for matching across channels (§4).

    Unlike the customer reference, which hashes only the strongest identifier, every
    identifier gets its own key: a web complaint with an e-mail address and an app
    complaint with the same address and a phone number then share the e-mail key.
    """
    given = (
        ("id", customer_id.strip() if customer_id else None),
        ("phone", normalize_phone(phone) if phone else None),
        ("email", normalize_email(email) if email else None),
    )
    return tuple(f"{kind}:{keyed_hash(key, kind, value)[:32]}" for kind, value in given if value)


@dataclass(frozen=True)
class CustomerIdentity:
    """What intake derives from a customer's identifiers: the reference and identity keys
    events carry, the masked contacts anyone may see, and the keyed hashes of the raw
    contacts (columns to match on without decrypting)."""

    customer_ref: str
    identity_keys: tuple[str, ...]
    masked_phone: str | None
    masked_email: str | None
    phone_hash: str | None
    email_hash: str | None


def identify(
    key: bytes, *, customer_id: str | None, phone: str | None, email: str | None
) -> CustomerIdentity:
    return CustomerIdentity(
        customer_ref=customer_ref(key, customer_id=customer_id, phone=phone, email=email),
        identity_keys=identity_keys(key, customer_id=customer_id, phone=phone, email=email),
        masked_phone=mask_phone(phone) if phone else None,
        masked_email=mask_email(email) if email else None,
        phone_hash=keyed_hash(key, "phone", normalize_phone(phone)) if phone else None,
        email_hash=keyed_hash(key, "email", normalize_email(email)) if email else None,
    )
