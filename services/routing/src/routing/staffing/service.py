"""Staffing use cases behind the admin and lead APIs: teams and the categories they own,
agents (skills, level, capacity, availability), VIP account managers, team queues, the
load recount and the agents seeded from ``ROUTING_AGENTS`` at start-up. Whatever gives an
agent room (online, more capacity) drains the queue into them in the same transaction.

Answers are this module's own frozen views, never table rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from complaint_contracts.privacy import redact_contacts
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import Forbidden, NotFound, field_error
from complaint_runtime.identity import Principal

from routing.assignment.db import AccountManager, AssignmentRepository, Team, needs_of
from routing.assignment.domain.agent_choice import needs_senior
from routing.assignment.domain.errors import UnknownTargetError
from routing.assignment.service import drain
from routing.cases.transitions import now_utc
from routing.config import AgentConfig
from routing.db import Agent, Case
from routing.staffing.domain import signature

log = structlog.get_logger(__name__)
MAX_SENDER_NAME = 200  # the event's bound (a team's name may be that long)


@dataclass(frozen=True)
class TeamView:
    id: str
    name: str
    categories: list[str]
    updated_at: datetime

    @classmethod
    def of(cls, team: Team, categories: list[str]) -> TeamView:
        return cls(team.id, team.name, categories, team.updated_at)


@dataclass(frozen=True)
class AgentView:
    id: str
    team: str
    level: str
    capacity: int
    categories: list[str]
    languages: list[str]
    availability: str
    open_load: int  # open cases assigned to the agent now
    last_assigned_at: datetime | None
    updated_at: datetime
    display_name: str | None  # how the agent signs answers to customers

    @classmethod
    def of(cls, agent: Agent) -> AgentView:
        return cls(
            id=agent.id,
            team=agent.team,
            level=agent.level,
            capacity=agent.capacity,
            categories=list(agent.categories or ()),
            languages=list(agent.languages or ()),
            availability=agent.availability,
            open_load=agent.open_load,
            last_assigned_at=agent.last_assigned_at,
            updated_at=agent.updated_at,
            display_name=agent.display_name,
        )


@dataclass(frozen=True)
class AccountManagerView:
    customer_ref: str
    agent_id: str
    updated_at: datetime

    @classmethod
    def of(cls, row: AccountManager) -> AccountManagerView:
        return cls(row.customer_ref, row.agent_id, row.updated_at)


@dataclass(frozen=True)
class QueueEntry:
    """A case waiting in its team's queue."""

    complaint_id: str
    reference: str
    status: str
    category: str
    priority: str
    language: str
    tier: str
    needs_senior: bool  # P1 or escalated: only a senior agent can take it
    queued_at: datetime
    waiting_s: int

    @classmethod
    def of(cls, case: Case, *, queued_at: datetime, at: datetime) -> QueueEntry:
        return cls(
            complaint_id=case.complaint_id,
            reference=case.reference,
            status=case.status,
            category=case.category,
            priority=case.priority,
            language=case.language,
            tier=case.tier,
            needs_senior=needs_senior(needs_of(case)),
            queued_at=queued_at,
            waiting_s=int((at - queued_at).total_seconds()),
        )


def _not_found(what: str) -> NotFound:
    return NotFound(title=f"{what} not found")


def _unknown(field: str, detail: str) -> UnknownTargetError:
    return UnknownTargetError(
        title="Unknown reference", errors=[field_error(field, detail, code="unknown")]
    )


def _audit(
    uow: UnitOfWork,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: Any,
    after: Any,
) -> None:
    uow.audit(
        actor=actor,
        action=f"{object_type}.{action}",
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
    )


def _customer_object(customer_ref: str) -> str:
    """How the audit log names a customer's account-manager entry: a hash of the reference,
    so an entry (never erased) cannot be tied to the customer once the reference is gone."""
    return "ref:" + hashlib.sha256(customer_ref.encode()).hexdigest()[:16]


# -- teams


async def list_teams(*, database: Database) -> list[TeamView]:
    async with database.sessions() as session:
        return [TeamView.of(t, c) for t, c in await AssignmentRepository(session).teams()]


async def put_team(
    *, database: Database, team: str, name: str, categories: Sequence[str], actor: str
) -> TeamView:
    """Create or rename a team and set the categories it owns (moved from their previous
    owner). Cases already routed stay where they are: a transfer moves them."""
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        before = {t.id: TeamView.of(t, c) for t, c in await repo.teams()}.get(team)
        await repo.put_team(team=team, name=name, categories=categories)
        views = {t.id: TeamView.of(t, c) for t, c in await repo.teams()}
        _audit(
            uow,
            actor=actor,
            action="put",
            object_type="team",
            object_id=team,
            before=before,
            after=views[team],
        )
    return views[team]


# -- agents


async def list_agents(*, database: Database, team: str | None) -> list[AgentView]:
    async with database.sessions() as session:
        return [AgentView.of(a) for a in await AssignmentRepository(session).agents(team=team)]


async def get_agent(*, database: Database, agent_id: str) -> AgentView:
    async with database.sessions() as session:
        agent = await AssignmentRepository(session).agent(agent_id)
    if agent is None:
        raise _not_found("Agent")
    return AgentView.of(agent)


async def _agent_view(repo: AssignmentRepository, agent_id: str) -> AgentView:
    agent = await repo.agent(agent_id)
    if agent is None:
        raise _not_found("Agent")
    return AgentView.of(agent)


async def put_agent(
    *, database: Database, agent_id: str, fields: dict[str, Any], actor: str
) -> AgentView:
    """Create or replace an agent (all but the load, which is the engine's counter); an
    agent with room afterwards takes queued cases at once."""
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        if not await repo.team_exists(fields["team"]):
            raise _unknown("team", f"no team {fields['team']!r}; create it first")
        before = await repo.agent(agent_id)
        before_view = AgentView.of(before) if before is not None else None
        await repo.ensure_teams([fields["team"]])
        await repo.lock_teams([fields["team"], before.team if before else None])
        await repo.upsert_agents([{"id": agent_id, **fields}])
        await drain(uow=uow, agent_id=agent_id, at=now_utc())
        after = await _agent_view(repo, agent_id)
        _audit(
            uow,
            actor=actor,
            action="put",
            object_type="agent",
            object_id=agent_id,
            before=before_view,
            after=after,
        )
        return after


def _may_set_availability(principal: Principal, agent: Agent) -> bool:
    if principal.has_any("manager", "admin"):
        return True
    if "lead" in principal.roles and principal.team is not None and principal.team == agent.team:
        return True
    return principal.subject == agent.id


async def set_availability(
    *, database: Database, agent_id: str, principal: Principal, availability: str
) -> AgentView:
    """The agent themself, their team's lead, a manager or an admin. Going online drains
    the team queue into the agent; going offline keeps their open cases (a lead transfers
    them if need be)."""
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        agent = await repo.agent(agent_id)
        if agent is None:
            raise _not_found("Agent")
        if not _may_set_availability(principal, agent):
            raise Forbidden("Agents set their own availability, leads their team's.")
        await repo.lock_teams([agent.team])
        # Read again under the team lock (populate_existing): the row as it is now.
        agent = await repo.agent(agent_id) or agent
        _audit(
            uow,
            actor=principal.subject,
            action="availability_set",
            object_type="agent",
            object_id=agent_id,
            before={"availability": agent.availability},
            after={"availability": availability},
        )
        agent.availability = availability
        agent.updated_at = now_utc()
        await uow.session.flush()
        if availability == "online":
            await drain(uow=uow, agent_id=agent_id, at=now_utc())
        return await _agent_view(repo, agent_id)


async def reconcile_loads(*, database: Database, actor: str) -> list[tuple[str, int, int]]:
    """Recount every agent's load from the cases; returns the corrections made."""
    async with database.unit_of_work() as uow:
        corrections = await AssignmentRepository(uow.session).recount()
        _audit(
            uow,
            actor=actor,
            action="loads_reconciled",
            object_type="agent",
            object_id="*",
            before={agent: was for agent, was, _ in corrections},
            after={agent: now for agent, _, now in corrections},
        )
        return corrections


# -- how staff sign what they send to customers


async def sender_name(*, uow: UnitOfWork, user_id: str, team: str | None) -> str | None:
    """How a message of ``user_id`` on a case of ``team`` is signed to the customer (the
    rule: :mod:`routing.staffing.domain.signature`), masked and bounded for the event; None:
    a neutral label. Read in the command's transaction."""
    repo = AssignmentRepository(uow.session)
    agent = await repo.agent(user_id)
    named_team = await repo.team(team) if team else None
    name = signature.sender_name(
        display_name=agent.display_name if agent is not None else None,
        team_id=team,
        team_name=named_team.name if named_team is not None else None,
    )
    return redact_contacts(name)[:MAX_SENDER_NAME] if name else None


# -- account managers


async def list_account_managers(*, database: Database) -> list[AccountManagerView]:
    async with database.sessions() as session:
        rows = await AssignmentRepository(session).account_managers()
    return [AccountManagerView.of(r) for r in rows]


async def put_account_manager(
    *, database: Database, customer_ref: str, agent_id: str, actor: str
) -> AccountManagerView:
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        if await repo.agent(agent_id) is None:
            raise _unknown("agent_id", f"no agent {agent_id!r}")
        previous = await repo.account_manager(customer_ref)
        before = {"agent_id": previous.agent_id} if previous is not None else None
        await repo.put_account_manager(customer_ref=customer_ref, agent_id=agent_id)
        found = await repo.account_manager(customer_ref)
        if found is None:
            raise _not_found("Account manager")
        _audit(
            uow,
            actor=actor,
            action="put",
            object_type="account_manager",
            object_id=_customer_object(customer_ref),
            before=before,
            after={"agent_id": agent_id},
        )
        return AccountManagerView.of(found)


async def delete_account_manager(*, database: Database, customer_ref: str, actor: str) -> None:
    async with database.unit_of_work() as uow:
        if not await AssignmentRepository(uow.session).delete_account_manager(customer_ref):
            raise _not_found("Account manager")
        _audit(
            uow,
            actor=actor,
            action="deleted",
            object_type="account_manager",
            object_id=_customer_object(customer_ref),
            before=None,
            after=None,
        )


async def forget_customer(*, uow: UnitOfWork, customer_ref: str) -> None:
    """Erasure at the customer's request (§10): their account manager assignment goes (it
    links the customer's reference to an agent); nothing to forget is no error (a replay,
    or one of the customer's other complaints forgot it first)."""
    await AssignmentRepository(uow.session).delete_account_manager(customer_ref)


# -- queues


async def team_queue(
    *, database: Database, team: str, principal: Principal, at: datetime | None = None
) -> list[QueueEntry]:
    """A lead sees their own team's queue; managers and admins every team's."""
    if not principal.has_any("manager", "admin") and principal.team != team:
        raise Forbidden("Leads see their own team's queue only.")
    now = at or now_utc()
    async with database.sessions() as session:
        repo = AssignmentRepository(session)
        if not await repo.team_exists(team):
            raise _not_found("Team")
        cases = await repo.queue(team)
    return [QueueEntry.of(c, queued_at=c.queued_at, at=now) for c in cases if c.queued_at]


# -- agents seeded at start-up (ROUTING_AGENTS)


def _row(agent: AgentConfig) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": agent.id,
        "team": agent.team,
        "level": agent.level,
        "capacity": agent.capacity,
    }
    # Optional fields overwrite only when listed, so a restart keeps what the admin API set.
    for name in ("categories", "languages", "availability", "display_name"):
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
