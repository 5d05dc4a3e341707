"""Routing's settings (environment variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from complaint_contracts.vocabulary import Category, Language
from complaint_runtime.settings import ServiceSettings
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from routing.staffing.domain.signature import check_display_name

MAX_AGENTS = 10_000


class AgentConfig(BaseModel):
    """One agent as ``ROUTING_AGENTS`` lists them (until a staff directory feeds routing)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    team: str = Field(min_length=1, max_length=60)
    level: Literal["junior", "intermediate", "senior"] = "intermediate"
    capacity: int = Field(10, ge=0, le=10_000, description="Max open cases at once")
    # Optional: left out, a new agent gets none (qualified for all of the team's categories,
    # every language, online) and an existing agent keeps what the admin API set.
    categories: tuple[Category, ...] | None = Field(
        None, max_length=20, description="Category skills; empty: all the team's categories"
    )
    languages: tuple[Language, ...] | None = Field(
        None, max_length=10, description="Languages spoken; empty: every language"
    )
    availability: Literal["online", "offline"] | None = Field(
        None, description="online or offline; left out: online for a new agent"
    )
    display_name: str | None = Field(
        None,
        description=(
            "How the agent's answers are signed to customers (never the user id); left out: "
            "a new agent has none (the team's name or a neutral label signs)"
        ),
    )

    @field_validator("display_name")
    @classmethod
    def _printable_name_without_contacts(cls, value: str | None) -> str | None:
        return None if value is None else check_display_name(value)


class RoutingSettings(ServiceSettings):
    service_name: str = "routing"
    database_url: str = "sqlite+aiosqlite:///./.run/routing.db"
    triage_classifier: Literal["rules", "model"] = Field(
        "rules",
        description=(
            "TRIAGE_CLASSIFIER: `rules` (keyword and pattern rules, the default) or `model` "
            "(the statistical model at TRIAGE_MODEL_PATH; start-up fails if it is missing)"
        ),
    )
    triage_model_path: Path = Field(
        Path(".run/routing-triage-model.skops"),
        description=(
            "TRIAGE_MODEL_PATH: where `routing-triage train` saves the triage model (a skops "
            "file, loaded only if it holds the model's own types) and where routing loads it "
            "from with TRIAGE_CLASSIFIER=model (needs routing's `model` extra)"
        ),
    )
    routing_agents: tuple[AgentConfig, ...] = Field(
        (),
        max_length=MAX_AGENTS,
        description=(
            "ROUTING_AGENTS: JSON list of agents upserted into the agents table at start-up, "
            'e.g. [{"id": "agent-li", "team": "billing", "level": "senior", "capacity": 10}]. '
            "Agents missing from the list are kept (they may still own cases). Optional: "
            '"categories", "languages" (skills; empty: all), "availability" '
            '("online"/"offline") and "display_name" (how the agent signs answers to '
            "customers), written only when given so a restart keeps admin changes."
        ),
    )
    duplicate_window_h: float = Field(
        72.0,
        gt=0,
        le=24 * 90,
        description=(
            "DUPLICATE_WINDOW_H: a complaint of the same customer with the same order "
            "reference or near-identical text within this many hours of an open one is its "
            "duplicate (§4)"
        ),
    )
    duplicate_text_similarity: float = Field(
        0.90,
        gt=0,
        le=1,
        description=(
            "DUPLICATE_TEXT_SIMILARITY: from this similarity (0..1, RapidFuzz ratio or "
            "token-sort ratio of the normalised descriptions) two texts are near-identical"
        ),
    )
    repeat_window_days: float = Field(
        30.0,
        gt=0,
        le=366,
        description=(
            "REPEAT_WINDOW_DAYS: earlier complaints of the same customer and category within "
            "this many days make the repeat count (the priority rule raises from 2)"
        ),
    )
    emotion_streak_length: int = Field(
        3,
        ge=2,
        le=20,
        description=(
            "EMOTION_STREAK_LENGTH: the same irritation word in this many consecutive "
            "customer messages (the description first) turns a blue case yellow"
        ),
    )
    review_task_due_h: float = Field(
        24.0,
        gt=0,
        le=24 * 30,
        description=(
            "REVIEW_TASK_DUE_H: a reopened case's review task for the team lead falls due "
            "this many hours after the reopen (wall-clock)"
        ),
    )
    follow_up_call_after_d: float = Field(
        15.0,
        ge=0,
        le=365,
        description=(
            "FOLLOW_UP_CALL_AFTER_D: a P1/P2 case's 回访 follow-up call task opens this many "
            "days after the resolution (it cannot be completed earlier)"
        ),
    )
    follow_up_call_due_d: float = Field(
        30.0,
        gt=0,
        le=365,
        description=(
            "FOLLOW_UP_CALL_DUE_D: the follow-up call falls due this many days after the "
            "resolution (after FOLLOW_UP_CALL_AFTER_D); later it counts as overdue"
        ),
    )
    unreachable_task_due_h: float = Field(
        24.0,
        gt=0,
        le=24 * 30,
        description=(
            "UNREACHABLE_TASK_DUE_H: the team lead's task about a customer no channel reaches "
            "(notify's no_channel for the confirmation request) falls due this many hours "
            "after notify's report"
        ),
    )
    intake_internal_url: str = Field(
        "http://127.0.0.1:8001",
        description=(
            "INTAKE_INTERNAL_URL: base URL of intake's internal API, asked for a customer's "
            "raw contact when a lead or manager reveals it (never stored by routing)"
        ),
    )
    internal_http_timeout_s: float = Field(
        5.0,
        gt=0,
        le=30,
        description=(
            "INTERNAL_HTTP_TIMEOUT_S: bound of each call to another service's internal API "
            "(a staff request waits for it; past it the answer is a 503)"
        ),
    )

    @model_validator(mode="after")
    def _follow_up_window_is_a_window(self) -> RoutingSettings:
        if self.follow_up_call_due_d <= self.follow_up_call_after_d:
            raise ValueError("FOLLOW_UP_CALL_DUE_D must be after FOLLOW_UP_CALL_AFTER_D")
        return self
