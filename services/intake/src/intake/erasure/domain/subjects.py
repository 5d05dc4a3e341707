"""How an erasure request names its customer, and the keyed hash it is kept as.

A customer is named by the external id a front end gave (scoped to that front end: two
front ends' ids are different customers), or by a phone number or an e-mail address,
normalised as intake normalised them when the complaints came in, so the request matches
the stored keyed hashes (``phone_hash``, ``email_hash``). The raw value is never kept:
the erasure records ``keyed_hash`` of it under ``CUSTOMER_REF_KEY`` in a domain of its
own (``erasure-<kind>``), which names the same customer on a repeated request and proves
later whom an erasure was for, to whoever holds the key, and to no one else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from complaint_runtime.errors import field_error

from intake.complaints.domain.customers import keyed_hash, normalize_email, normalize_phone
from intake.erasure.domain.errors import InvalidErasureSubject

SubjectKind = Literal["external_ref", "phone", "email"]
ALL_FRONT_ENDS: Final = "*"  # the scope of an admin's phone or e-mail request

_PHONE_CHARACTERS: Final = re.compile(r"^\+?[0-9][0-9 ()-]*$")
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 6, 15  # as a complaint takes them; E.164: 15 at most
_EMAIL: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL: Final = 320
MAX_EXTERNAL_REF: Final = 100  # complaints.customer_id


@dataclass(frozen=True)
class ErasureSubject:
    """A customer as an erasure request names them: ``value`` is normalised (the match key
    of the complaints column), ``scope`` the front end whose complaints it covers (``*``:
    every front end)."""

    kind: SubjectKind
    value: str
    scope: str

    def subject_hash(self, key: bytes) -> str:
        """What the erasure keeps of the name: a keyed hash, scope included."""
        return keyed_hash(key, f"erasure-{self.kind}", f"{self.scope}\x00{self.value}")


def external_ref_subject(external_ref: str, *, front_end: str) -> ErasureSubject:
    """The front end's customer id, as its complaints stored it (trimmed)."""
    value = external_ref.strip()
    if not value or len(value) > MAX_EXTERNAL_REF:
        raise InvalidErasureSubject(
            "The customer id must be 1 to 100 characters.",
            errors=[field_error("external_ref", "1 to 100 characters", location="path")],
        )
    return ErasureSubject("external_ref", value, front_end)


def contact_subject(*, phone: str | None, email: str | None, scope: str) -> ErasureSubject:
    """Exactly one of ``phone`` and ``email``, validated and normalised."""
    if (phone is None) == (email is None):
        raise InvalidErasureSubject(
            "Name the customer by exactly one of `phone` and `email`.",
            errors=[
                field_error(name, "give exactly one of phone and email", code="one_of")
                for name in ("phone", "email")
            ],
        )
    if phone is not None:
        return _phone_subject(phone, scope)
    if email is None or len(email) > MAX_EMAIL or not _EMAIL.match(email.strip()):
        raise InvalidErasureSubject(
            "The e-mail address is malformed.",
            errors=[field_error("email", "an e-mail address such as name@example.com")],
        )
    return ErasureSubject("email", normalize_email(email), scope)


def _phone_subject(phone: str, scope: str) -> ErasureSubject:
    digits = normalize_phone(phone)
    if not _PHONE_CHARACTERS.match(phone) or not (
        _MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS
    ):
        raise InvalidErasureSubject(
            "The phone number is malformed.",
            errors=[field_error("phone", "digits, with +, spaces, dashes or brackets")],
        )
    return ErasureSubject("phone", digits, scope)


def contact_hash(key: bytes, subject: ErasureSubject) -> str:
    """The keyed hash the complaints' ``phone_hash`` / ``email_hash`` column holds for a
    phone or e-mail subject (intake.complaints.domain.customers.identify)."""
    if subject.kind == "external_ref":
        raise ValueError("an external customer id is matched by its column, not a hash")
    return keyed_hash(key, subject.kind, subject.value)
