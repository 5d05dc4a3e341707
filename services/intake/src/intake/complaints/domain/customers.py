"""How a customer is identified across channels without keeping the raw contact in events.

A customer reference is a keyed hash (HMAC-SHA256) of the strongest identifier given: the
front end's customer id, else the phone number, else the e-mail address. The same key
gives the same reference on every channel, and without the key it cannot be reversed.

A customer id means something only in the system that issued it: two CRMs' ``cust-1001``
are two people. So an id is hashed in its front end's **namespace** (``id@<front end>:<id>``,
the ``id:`` identity key likewise), unless the front end is one of those configured to share
one id namespace (``SHARED_CUSTOMER_ID_FRONT_ENDS``), whose ids hash as before front ends
were recorded (``id:<id>``). Phone numbers and e-mail addresses identify a person whichever
channel they came by: they stay global. Complaints stored before keep their references.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection
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


def customer_id_namespace(front_end: str | None, *, shared: Collection[str]) -> str | None:
    """The namespace a front end's customer ids are hashed in: its own name, or None (the
    one shared namespace) for a front end configured as shared, or none at all."""
    if front_end is None or front_end in shared:
        return None
    return front_end


def _id_kind(namespace: str | None) -> str:
    # "id@<name>:<id>" never equals a shared "id:<id>" (the character after "id" differs),
    # and names hold no colon, so two (namespace, id) pairs never give the same text.
    return "id" if namespace is None else f"id@{namespace}"


def customer_ref(
    key: bytes,
    *,
    customer_id: str | None,
    phone: str | None,
    email: str | None,
    id_namespace: str | None = None,
) -> str:
    """``cus_`` and 32 hex digits of the strongest identifier's keyed hash (a customer id
    in ``id_namespace``: see the module docstring)."""
    if customer_id:
        digest = keyed_hash(key, _id_kind(id_namespace), customer_id.strip())
    elif phone:
        digest = keyed_hash(key, "phone", normalize_phone(phone))
    elif email:
        digest = keyed_hash(key, "email", normalize_email(email))
    else:  # the request schema requires one of the three
        raise ValueError("a customer needs an id, a phone number or an e-mail address")
    return f"cus_{digest[:32]}"


def identity_keys(
    key: bytes,
    *,
    customer_id: str | None,
    phone: str | None,
    email: str | None,
    id_namespace: str | None = None,
) -> tuple[str, ...]:
    """One ``kind:hash`` key per identifier given, for matching across channels (§4).

    Unlike the customer reference, which hashes only the strongest identifier, every
    identifier gets its own key: a web complaint with an e-mail address and an app
    complaint with the same address and a phone number then share the e-mail key.
    """
    given = (
        ("id", _id_kind(id_namespace), customer_id.strip() if customer_id else None),
        ("phone", "phone", normalize_phone(phone) if phone else None),
        ("email", "email", normalize_email(email) if email else None),
    )
    return tuple(
        f"{label}:{keyed_hash(key, kind, value)[:32]}" for label, kind, value in given if value
    )


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
    key: bytes,
    *,
    customer_id: str | None,
    phone: str | None,
    email: str | None,
    id_namespace: str | None = None,
) -> CustomerIdentity:
    """Everything derived from a customer's identifiers; ``id_namespace``: the one their
    customer id belongs to (:func:`customer_id_namespace`)."""
    return CustomerIdentity(
        customer_ref=customer_ref(
            key, customer_id=customer_id, phone=phone, email=email, id_namespace=id_namespace
        ),
        identity_keys=identity_keys(
            key, customer_id=customer_id, phone=phone, email=email, id_namespace=id_namespace
        ),
        masked_phone=mask_phone(phone) if phone else None,
        masked_email=mask_email(email) if email else None,
        phone_hash=keyed_hash(key, "phone", normalize_phone(phone)) if phone else None,
        email_hash=keyed_hash(key, "email", normalize_email(email)) if email else None,
    )


def namespace_of(
    key: bytes, *, stored_ref: str, customer_id: str | None, front_end: str | None
) -> str | None:
    """The namespace a stored complaint's customer id was hashed in: its front end's when
    that gives its reference back, else the shared one. A follow-up is thereby the same
    customer as the complaint it follows up, whatever the configuration says today and for
    complaints stored before ids were namespaced."""
    if customer_id and front_end is not None:
        scoped = customer_ref(
            key, customer_id=customer_id, phone=None, email=None, id_namespace=front_end
        )
        if hmac.compare_digest(scoped, stored_ref):
            return front_end
    return None
