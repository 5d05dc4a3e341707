"""Bodies and answers of the staffing APIs: teams, agents, account managers, queues,
availability (bounded like every input). Answers are built from the service's views."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from complaint_contracts.vocabulary import Category, Language
from complaint_runtime.text import SingleLine
from pydantic import BaseModel, ConfigDict, Field, field_validator

from routing.staffing.domain.signature import MAX_DISPLAY_NAME, check_display_name
from routing.staffing.service import AccountManagerView, AgentView, QueueEntry, TeamView

TEAM_ID = r"^[a-z0-9][a-z0-9-]{0,59}$"
USER_ID = r"^[A-Za-z0-9._:-]{1,100}$"
CUSTOMER_REF = r"^[A-Za-z0-9._:-]{1,100}$"
Level = Literal["junior", "intermediate", "senior"]
Availability = Literal["online", "offline"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


class TeamIn(_In):
    name: Annotated[str, SingleLine] = Field(
        min_length=1, max_length=200, description="Display name (signs messages: one line)"
    )
    categories: list[Category] = Field(
        default_factory=list,
        max_length=50,
        description="Categories this team owns (moved from their previous owner)",
    )

    _unique_categories = field_validator("categories")(_unique)


class TeamOut(BaseModel):
    id: str
    name: str
    categories: list[str]
    updated_at: datetime

    @classmethod
    def of(cls, view: TeamView) -> TeamOut:
        return cls(
            id=view.id, name=view.name, categories=view.categories, updated_at=view.updated_at
        )


class AgentIn(_In):
    team: str = Field(pattern=TEAM_ID, description="An existing team")
    level: Level = "intermediate"
    capacity: int = Field(10, ge=0, le=10_000, description="Max open cases at once")
    categories: list[Category] = Field(
        default_factory=list, max_length=20, description="Skills; empty: all the team's"
    )
    languages: list[Language] = Field(
        default_factory=list, max_length=10, description="Languages; empty: every language"
    )
    availability: Availability = "online"
    display_name: str | None = Field(
        None,
        max_length=MAX_DISPLAY_NAME,
        description=(
            "How the agent's answers and questions are signed to customers (no phone number "
            "or e-mail address); omitted or null: none, and the team's name (when an admin "
            "named the team) or a neutral 'customer service' signs: never the user id"
        ),
        examples=["李娜"],
    )

    _unique_categories = field_validator("categories")(_unique)
    _unique_languages = field_validator("languages")(_unique)

    @field_validator("display_name")
    @classmethod
    def _printable_name_without_contacts(cls, value: str | None) -> str | None:
        return None if value is None else check_display_name(value)


class AgentOut(BaseModel):
    id: str
    team: str
    level: str
    capacity: int
    categories: list[str]
    languages: list[str]
    availability: str
    open_load: int = Field(description="Open cases assigned to the agent now")
    last_assigned_at: datetime | None
    updated_at: datetime
    display_name: str | None = Field(
        description="How the agent signs answers to customers; null: the team or a neutral label"
    )

    @classmethod
    def of(cls, agent: AgentView) -> AgentOut:
        return cls.model_validate(agent, from_attributes=True)


class AvailabilityIn(_In):
    availability: Availability


class AccountManagerIn(_In):
    agent_id: str = Field(pattern=USER_ID, description="The agent who looks after the customer")


class AccountManagerOut(BaseModel):
    customer_ref: str
    agent_id: str
    updated_at: datetime

    @classmethod
    def of(cls, row: AccountManagerView) -> AccountManagerOut:
        return cls.model_validate(row, from_attributes=True)


class LoadCorrection(BaseModel):
    agent_id: str
    counter: int = Field(description="What the counter said")
    counted: int = Field(description="Open cases counted (the new counter)")


class ReconcileOut(BaseModel):
    corrected: list[LoadCorrection]


class QueuedCaseOut(BaseModel):
    complaint_id: str
    reference: str
    status: str
    category: str
    priority: str
    language: str
    tier: str
    needs_senior: bool = Field(description="P1 or escalated: only a senior agent can take it")
    queued_at: datetime
    waiting_s: int

    @classmethod
    def of(cls, entry: QueueEntry) -> QueuedCaseOut:
        return cls.model_validate(entry, from_attributes=True)


class QueueOut(BaseModel):
    team: str
    cases: list[QueuedCaseOut] = Field(description="Longest-waiting first")
