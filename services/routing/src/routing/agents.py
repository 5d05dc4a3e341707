"""The agents routing assigns to, seeded from ``ROUTING_AGENTS`` at start-up (until a
staff directory feeds routing, the issue after this one)."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from complaint_runtime.database import Database

from routing.config import AgentConfig
from routing.db import AgentRepository

log = structlog.get_logger(__name__)


async def seed_agents(*, database: Database, agents: Sequence[AgentConfig]) -> int:
    """Upsert the configured agents; agents no longer listed are kept, since cases still
    name them as assignee or owner."""
    unique = {a.id: a for a in agents}  # a repeated id: the last entry wins
    async with database.unit_of_work() as uow:
        count = await AgentRepository(uow.session).upsert(
            (a.id, a.team, a.level, a.capacity) for a in unique.values()
        )
    log.info("agents seeded", count=count)
    return count
