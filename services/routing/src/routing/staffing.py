"""Staffing use cases behind the admin and lead APIs: teams and the categories they own,
agents (skills, level, capacity, availability), VIP account managers, team queues and the
load recount. Whatever gives an agent room (online, more capacity) drains the queue into
them in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from complaint_runtime.auth import Principal
from complaint_runtime.database import Database
from complaint_runtime.problems import Problem

from routing.assignment import drain
from routing.assignment_db import AccountManager, AssignmentRepository, Team, needs_of
from routing.db import Agent, Case
from routing.domain.assignment import needs_senior
from routing.transitions import now_utc


@dataclass(frozen=True)
class TeamView:
    team: Team
    categories: list[str]


@dataclass(frozen=True)
class QueueEntry:
    case: Case
    needs_senior: bool
    waiting_s: int


def _forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail, kind="forbidden")


def _not_found(what: str) -> Problem:
    return Problem(404, f"{what} not found", kind="not-found")


def _unknown(field: str, detail: str) -> Problem:
    return Problem(
        422,
        "Unknown reference",
        kind="unknown-target",
        errors=[
            {
                "in": "body",
                "field": field,
                "pointer": f"/{field}",
                "code": "unknown",
                "detail": detail,
            }
        ],
    )


# -- teams


async def list_teams(*, database: Database) -> list[TeamView]:
    async with database.sessions() as session:
        return [TeamView(t, c) for t, c in await AssignmentRepository(session).teams()]


async def put_team(
    *, database: Database, team: str, name: str, categories: Sequence[str]
) -> TeamView:
    """Create or rename a team and set the categories it owns (moved from their previous
    owner). Cases already routed stay where they are: a transfer moves them."""
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        await repo.put_team(team=team, name=name, categories=categories)
        views = {t.id: TeamView(t, c) for t, c in await repo.teams()}
    return views[team]


# -- agents


async def list_agents(*, database: Database, team: str | None) -> list[Agent]:
    async with database.sessions() as session:
        return await AssignmentRepository(session).agents(team=team)


async def get_agent(*, database: Database, agent_id: str) -> Agent:
    async with database.sessions() as session:
        agent = await AssignmentRepository(session).agent(agent_id)
    if agent is None:
        raise _not_found("Agent")
    return agent


async def put_agent(*, database: Database, agent_id: str, fields: dict[str, Any]) -> Agent:
    """Create or replace an agent (all but the load, which is the engine's counter); an
    agent with room afterwards takes queued cases at once."""
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        if not await repo.team_exists(fields["team"]):
            raise _unknown("team", f"no team {fields['team']!r}; create it first")
        before = await repo.agent(agent_id)
        await repo.ensure_teams([fields["team"]])
        await repo.lock_teams([fields["team"], before.team if before else None])
        await repo.upsert_agents([{"id": agent_id, **fields}])
        await drain(uow=uow, agent_id=agent_id, at=now_utc())
        agent = await repo.agent(agent_id)
    assert agent is not None
    return agent


def _may_set_availability(principal: Principal, agent: Agent) -> bool:
    if principal.has_any("manager", "admin"):
        return True
    if "lead" in principal.roles and principal.team is not None and principal.team == agent.team:
        return True
    return principal.subject == agent.id


async def set_availability(
    *, database: Database, agent_id: str, principal: Principal, availability: str
) -> Agent:
    """The agent themself, their team's lead, a manager or an admin. Going online drains
    the team queue into the agent; going offline keeps their open cases (a lead transfers
    them if need be)."""
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        agent = await repo.agent(agent_id)
        if agent is None:
            raise _not_found("Agent")
        if not _may_set_availability(principal, agent):
            raise _forbidden("Agents set their own availability, leads their team's.")
        await repo.lock_teams([agent.team])
        agent = await repo.agent(agent_id)
        assert agent is not None
        agent.availability = availability
        agent.updated_at = now_utc()
        await uow.session.flush()
        if availability == "online":
            await drain(uow=uow, agent_id=agent_id, at=now_utc())
        agent = await repo.agent(agent_id)
    assert agent is not None
    return agent


async def reconcile_loads(*, database: Database) -> list[tuple[str, int, int]]:
    """Recount every agent's load from the cases; returns the corrections made."""
    async with database.unit_of_work() as uow:
        return await AssignmentRepository(uow.session).recount()


# -- account managers


async def list_account_managers(*, database: Database) -> list[AccountManager]:
    async with database.sessions() as session:
        return await AssignmentRepository(session).account_managers()


async def put_account_manager(
    *, database: Database, customer_ref: str, agent_id: str
) -> AccountManager:
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        if await repo.agent(agent_id) is None:
            raise _unknown("agent_id", f"no agent {agent_id!r}")
        await repo.put_account_manager(customer_ref=customer_ref, agent_id=agent_id)
        found = await uow.session.get(AccountManager, customer_ref, populate_existing=True)
    assert found is not None
    return found


async def delete_account_manager(*, database: Database, customer_ref: str) -> None:
    async with database.unit_of_work() as uow:
        if not await AssignmentRepository(uow.session).delete_account_manager(customer_ref):
            raise _not_found("Account manager")


# -- queues


async def team_queue(
    *, database: Database, team: str, principal: Principal, at: datetime | None = None
) -> list[QueueEntry]:
    """A lead sees their own team's queue; managers and admins every team's."""
    if not principal.has_any("manager", "admin") and principal.team != team:
        raise _forbidden("Leads see their own team's queue only.")
    now = at or now_utc()
    async with database.sessions() as session:
        repo = AssignmentRepository(session)
        if not await repo.team_exists(team):
            raise _not_found("Team")
        cases = await repo.queue(team)
    return [
        QueueEntry(
            case=c,
            needs_senior=needs_senior(needs_of(c)),
            waiting_s=int((now - c.queued_at).total_seconds()) if c.queued_at else 0,
        )
        for c in cases
    ]
