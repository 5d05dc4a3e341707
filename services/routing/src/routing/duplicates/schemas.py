"""Bodies of the duplicate-link API (bounded like every input)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

REASON = 2000
COMPLAINT_ID = r"^[A-Za-z0-9-]{1,36}$"  # complaint ids are UUIDs


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DuplicateOfIn(_In):
    original_id: str = Field(
        pattern=COMPLAINT_ID,
        description="The open case that stands for both (it must not be a duplicate itself)",
    )
    reason: str = Field(
        min_length=1,
        max_length=REASON,
        description="Why they are the same complaint (kept in both histories; contacts masked)",
    )


class UnlinkIn(_In):
    reason: str = Field(
        min_length=1,
        max_length=REASON,
        description="Why it is a complaint of its own (kept in both histories; contacts masked)",
    )
