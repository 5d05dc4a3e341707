"""The reveal's body and answer."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

REASON = 500


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(
        min_length=1,
        max_length=REASON,
        description="Why the raw contact is needed (kept in the case's history, masked)",
    )


class ContactOut(BaseModel):
    """The customer's raw contact: shown once, never cached (``Cache-Control: no-store``)."""

    name: str | None
    email: str | None
    phone: str | None
    preferred_channel: str | None
