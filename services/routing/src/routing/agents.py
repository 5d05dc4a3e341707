"""The agents routing assigns to, seeded from ``ROUTING_AGENTS`` at start-up; the admin API
(``/v1/admin/agents``) manages them afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from complaint_runtime.database import Database

from routing.assignment import drain
from routing.assignment_db import AssignmentRepository
from routing.config import AgentConfig
from routing.transitions import now_utc

log = structlog.get_logger(__name__)


def _row(agent: AgentConfig) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": agent.id,
        "team": agent.team,
        "level": agent.level,
        "capacity": agent.capacity,
    }
    # Optional fields overwrite only when listed, so a restart keeps what the admin API set.
    for name in ("categories", "languages", "availability"):
        value = getattr(agent, name)
        if value is not None:
            row[name] = list(value) if isinstance(value, tuple) else value
    return row


async def seed_agents(*, database: Database, agents: Sequence[AgentConfig]) -> int:
    """Upsert the configured agents (and their teams); agents no longer listed are kept,
    since cases still name them as assignee or owner. A seeded agent that comes online or
    gets more capacity takes queued cases at once."""
    unique = {a.id: a for a in agents}  # a repeated id: the last entry wins
    if not unique:
        log.info("agents seeded", count=0)
        return 0
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        teams = {a.team for a in unique.values()}
        await repo.ensure_teams(teams)
        await repo.lock_teams(teams)
        await repo.upsert_agents([_row(a) for a in unique.values()])
        for agent_id in sorted(unique):
            await drain(uow=uow, agent_id=agent_id, at=now_utc())
    log.info("agents seeded", count=len(unique))
    return len(unique)
