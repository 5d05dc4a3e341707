"""Routing's settings (environment variables)."""

from __future__ import annotations

from typing import Literal

from complaint_runtime.settings import ServiceSettings
from pydantic import BaseModel, ConfigDict, Field

MAX_AGENTS = 10_000


class AgentConfig(BaseModel):
    """One agent as ``ROUTING_AGENTS`` lists them (until a staff directory feeds routing)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    team: str = Field(min_length=1, max_length=60)
    level: Literal["junior", "intermediate", "senior"] = "intermediate"
    capacity: int = Field(10, ge=0, le=10_000, description="Max open cases at once")


class RoutingSettings(ServiceSettings):
    service_name: str = "routing"
    database_url: str = "sqlite+aiosqlite:///./.run/routing.db"
    routing_agents: tuple[AgentConfig, ...] = Field(
        (),
        max_length=MAX_AGENTS,
        description=(
            "ROUTING_AGENTS: JSON list of agents upserted into the agents table at start-up, "
            'e.g. [{"id": "agent-li", "team": "billing", "level": "senior", "capacity": 10}]. '
            "Agents missing from the list are kept (they may still own cases)."
        ),
    )
