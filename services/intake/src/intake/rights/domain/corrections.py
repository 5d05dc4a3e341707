"""Correcting a complaint's contact details (§10, the right to rectification).

A correction is a JSON merge patch (RFC 7396) of the contact fields a front end gave with
the complaint: a member with a value replaces the field, ``null`` removes it, an absent
member keeps it. The values are validated like the complaint's POST (the request schema
shares the field types). What may not result: a complaint by which the customer can no
longer be identified (no external id, no phone, no e-mail), as the POST refuses one.

The customer reference stays as it is. It names the customer in every other service
(duplicates, repeats, NPS sampling, erasure confirmations): changing it on a correction
would split one customer in two there, and a reference computed from a number the customer
no longer uses still names the same person. The keyed hashes and the masked forms follow
the correction, so an export or an erasure by the new number finds the complaint, and the
internal contact lookup (notify reads it just in time) answers the corrected values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Final

from complaint_runtime.errors import InvalidInput, field_error

from intake.rights.domain.errors import NothingToCorrect

CORRECTABLE: Final = ("name", "phone", "email", "preferred_channel")
IDENTIFYING: Final = ("phone", "email")


@dataclass(frozen=True)
class ContactDetails:
    """A complaint's contact fields, raw (as decrypted)."""

    name: str | None
    phone: str | None
    email: str | None
    preferred_channel: str | None


def merge(current: ContactDetails, patch: Mapping[str, str | None]) -> ContactDetails:
    """``current`` with ``patch`` merged in (RFC 7396). An empty patch is
    :class:`NothingToCorrect`; a field that is not a contact field is a ``ValueError`` (the
    schema forbids it)."""
    if not patch:
        raise NothingToCorrect(f"Give at least one of {', '.join(CORRECTABLE)}.")
    unknown = sorted(set(patch) - set(CORRECTABLE))
    if unknown:
        raise ValueError(f"not contact fields: {', '.join(unknown)}")
    return replace(current, **patch)


def check_identifiable(corrected: ContactDetails, *, customer_id: str | None) -> None:
    """Refuse a correction that leaves the customer without an identifier."""
    if customer_id or corrected.phone or corrected.email:
        return
    raise InvalidInput(
        "The complaint would be left without a way to identify the customer: keep a phone "
        "number or an e-mail address.",
        errors=[field_error(name, "cannot be removed as well") for name in IDENTIFYING],
    )


def changed(before: ContactDetails, after: ContactDetails) -> tuple[str, ...]:
    """The fields whose value the correction changed, in :data:`CORRECTABLE` order."""
    return tuple(
        f.name for f in fields(ContactDetails) if getattr(before, f.name) != getattr(after, f.name)
    )
