"""The staff directory: who agents, team leads, managers and the senior escalation group
are, and where they read their mail.

Staff contacts are not customer data: they come from configuration
(``NOTIFY_STAFF_DIRECTORY``), not from intake. A user or team missing from it is a
configuration gap, so the delivery is skipped with that reason rather than failing.

The JSON shape (every key optional, so older directories stay valid)::

    {"users": {"<user id>": {"email": "...", "name": "...", "language": "zh-CN|en"}},
     "team_leads": {"<team>": "<user id>"},
     "managers": {"<team>": "<user id>"},
     "escalation_group": ["<user id>", ...]}

Escalation levels (§3) map onto it: 1 the team's lead, 2 the team's manager, 3 every member
of the escalation group.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Language = Literal["zh-CN", "en"]
MAX_DIRECTORY_ENTRIES = 10_000
MAX_GROUP_MEMBERS = 50


class _UserIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str | None = Field(None, max_length=320)
    name: str | None = Field(None, max_length=200)
    language: Language | None = None


class _DirectoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: dict[str, _UserIn] = Field(default_factory=dict, max_length=MAX_DIRECTORY_ENTRIES)
    team_leads: dict[str, str] = Field(default_factory=dict, max_length=MAX_DIRECTORY_ENTRIES)
    managers: dict[str, str] = Field(default_factory=dict, max_length=MAX_DIRECTORY_ENTRIES)
    escalation_group: list[str] = Field(default_factory=list, max_length=MAX_GROUP_MEMBERS)

    @field_validator("escalation_group")
    @classmethod
    def _distinct_members(cls, members: list[str]) -> list[str]:
        # Listed twice would mean the same person told twice about one escalation.
        if len(set(members)) != len(members):
            raise ValueError("escalation_group lists a user more than once")
        if any(not member.strip() for member in members):
            raise ValueError("escalation_group has an empty user id")
        return members


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
    managers: dict[str, str] = field(default_factory=dict)
    escalation_group: tuple[str, ...] = ()

    def user(self, user_id: str | None) -> StaffMember | None:
        return self.users.get(user_id) if user_id else None

    def team_lead_of(self, team: str | None) -> str | None:
        return self.team_leads.get(team) if team else None

    def manager_of(self, team: str | None) -> str | None:
        return self.managers.get(team) if team else None


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
    return StaffDirectory(
        users=users,
        team_leads=dict(parsed.team_leads),
        managers=dict(parsed.managers),
        escalation_group=tuple(parsed.escalation_group),
    )


class NoRecipient(LookupError):
    """Nobody in the directory for a staff delivery; the message says which entry is missing."""


# The roles found through the complaint's team: how, and what the role is called.
_BY_TEAM: dict[str, tuple[Callable[[StaffDirectory, str | None], str | None], str]] = {
    "team_lead": (StaffDirectory.team_lead_of, "team lead"),
    "manager": (StaffDirectory.manager_of, "manager"),
}


def staff_recipient(
    directory: StaffDirectory, *, role: str, team: str | None, user_id: str | None
) -> StaffMember:
    """The staff member a delivery goes to: the team's lead or manager looked up by the
    complaint's team, or the user the delivery names (an agent, a member of the group)."""
    if role in _BY_TEAM:
        lookup, title = _BY_TEAM[role]
        if team is None:
            raise NoRecipient("the complaint has no team yet")
        user_id = lookup(directory, team)
        if user_id is None:
            raise NoRecipient(f"no {title} configured for team {team}")
    elif role == "senior_group" and user_id is None:
        raise NoRecipient("no escalation_group configured")
    member = directory.user(user_id)
    if member is None:
        raise NoRecipient(f"user {user_id} is not in the staff directory")
    return member
