"""The staff directory: who agents and team leads are and where they read their mail.

Staff contacts are not customer data: they come from configuration
(``NOTIFY_STAFF_DIRECTORY``), not from intake. A user or team missing from it is a
configuration gap, so the delivery is skipped with that reason rather than failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Language = Literal["zh-CN", "en"]
MAX_DIRECTORY_ENTRIES = 10_000


class _UserIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str | None = Field(None, max_length=320)
    name: str | None = Field(None, max_length=200)
    language: Language | None = None


class _DirectoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: dict[str, _UserIn] = Field(default_factory=dict, max_length=MAX_DIRECTORY_ENTRIES)
    team_leads: dict[str, str] = Field(default_factory=dict, max_length=MAX_DIRECTORY_ENTRIES)


@dataclass(frozen=True)
class StaffMember:
    user_id: str
    email: str | None
    name: str
    language: Language


@dataclass(frozen=True)
class StaffDirectory:
    users: dict[str, StaffMember] = field(default_factory=dict)
    team_leads: dict[str, str] = field(default_factory=dict)

    def user(self, user_id: str | None) -> StaffMember | None:
        return self.users.get(user_id) if user_id else None

    def team_lead_of(self, team: str | None) -> str | None:
        return self.team_leads.get(team) if team else None


class InvalidDirectory(ValueError):
    """The configured directory is not the documented JSON shape."""


def parse_directory(text: str, *, default_language: Language = "zh-CN") -> StaffDirectory:
    """Parse the directory's JSON; an empty text is an empty directory."""
    if not text.strip():
        return StaffDirectory()
    try:
        parsed = _DirectoryIn.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise InvalidDirectory(f"NOTIFY_STAFF_DIRECTORY is not valid: {exc}") from exc
    users = {
        user_id: StaffMember(
            user_id=user_id,
            email=entry.email or None,
            name=entry.name or user_id,
            language=entry.language or default_language,
        )
        for user_id, entry in parsed.users.items()
    }
    return StaffDirectory(users=users, team_leads=dict(parsed.team_leads))
