"""The customer's raw contact as routing's ``POST /v1/cases/{id}/contact/reveal`` answers
it: shown once, in the page that asked, to the lead or manager who gave a reason. The
console keeps it in no database, no log, no session and no cache (the answer carries
``Cache-Control: no-store``); this value lives only while the fragment is drawn."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

MAX_FIELD: Final = 320  # an e-mail address's longest; longer values are routing's error


def _text(value: object) -> str | None:
    return value[:MAX_FIELD] if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True, slots=True)
class Contact:
    name: str | None
    email: str | None
    phone: str | None
    preferred_channel: str | None

    def __repr__(self) -> str:  # never in a log or a traceback by accident
        return "Contact(<revealed>)"

    @property
    def empty(self) -> bool:
        return not (self.name or self.email or self.phone)


def contact_of(answer: object) -> Contact:
    """Any field may be null (an erased customer has none left)."""
    found = answer if isinstance(answer, Mapping) else {}
    return Contact(
        name=_text(found.get("name")),
        email=_text(found.get("email")),
        phone=_text(found.get("phone")),
        preferred_channel=_text(found.get("preferred_channel")),
    )
