"""Revealing a customer's raw contact (§10), as pure rules.

Routing keeps masked contacts only; the raw ones stay encrypted in intake. A lead (on their
team's cases) or a manager may need them, e.g. to call a customer back: they give a reason,
and the case's history records who revealed which fields and why, never the values (the
history is read by everyone who sees the case, and outlives an erasure's blanking).
"""

from __future__ import annotations

from typing import Final

REVEAL_ROLES: Final = frozenset({"lead", "manager"})
CONTACT_FIELDS: Final = ("name", "email", "phone")


def present_fields(*, name: str | None, email: str | None, phone: str | None) -> list[str]:
    """Which contact fields the answer carried (for the audit entry), in a fixed order."""
    values = dict(zip(CONTACT_FIELDS, (name, email, phone), strict=True))
    return [field for field in CONTACT_FIELDS if values[field]]
