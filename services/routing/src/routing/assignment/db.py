"""The assignment engine's tables (teams, category ownership, account managers) and the
statements that keep agents' loads right under parallel consumers.

Capacity safety rests on two mechanisms, both in the caller's transaction:

- **the claim**: ``UPDATE agents SET open_load = open_load + 1 WHERE id = :id AND open_load
  < capacity AND availability = 'online'``. On PostgreSQL the row lock taken by the update
  makes a second claim wait and then re-check the condition against the committed row, so
  two routing processes can never push an agent past capacity, whatever they read before.
  SQLite serialises writers (``BEGIN IMMEDIATE``).
- **the team lock** (PostgreSQL transaction-scoped advisory lock per team): every change of
  a team's queue or of its agents' loads takes it first, so a case queued by one process
  and an agent freed by another cannot miss each other (the second one sees the first's
  commit). Locks are taken in sorted order within one call; across the records of one
  consumer batch the order can differ, and a deadlock is turned into a transient error so
  that the consumer retries the whole batch instead of dead-lettering a record.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from complaint_runtime.consumer import TransientError
from complaint_runtime.database import Base, UTCDateTime, dialect_insert, utcnow
from sqlalchemy import ForeignKey, Index, String, delete, false, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from routing.assignment.domain.agent_choice import AgentSnapshot, CaseNeeds, QueuedCase
from routing.assignment.domain.category_ownership import (
    DEFAULT_TEAM_OWNERSHIP,
    team_for_category,
)
from routing.cases.domain.lifecycle import ACTIVE
from routing.db import Agent, Case

# The team queue, read longest-waiting first (declared here: the engine owns the column).
Index("ix_cases_team_queue", Case.team, Case.queued_at)

QUEUE_SCAN = 50  # queued cases looked at per drain step (already filtered by the agent's skills)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamCategory(Base):
    """Which team owns a category: one owner per category (§5)."""

    __tablename__ = "team_categories"

    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    team: Mapped[str] = mapped_column(String(60), ForeignKey("teams.id"), index=True)


class AccountManager(Base):
    """The agent a VIP customer's complaints go to first."""

    __tablename__ = "account_managers"

    customer_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(100), ForeignKey("agents.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def snapshot_of(agent: Agent) -> AgentSnapshot:
    return AgentSnapshot(
        agent_id=agent.id,
        team=agent.team,
        level=agent.level,
        capacity=agent.capacity,
        load=agent.open_load,
        online=agent.availability == "online",
        categories=frozenset(agent.categories or ()),
        languages=frozenset(agent.languages or ()),
        last_assigned_at=agent.last_assigned_at,
    )


def needs_of(case: Case, *, team: str | None = None) -> CaseNeeds:
    return CaseNeeds(
        team=team or case.team or team_for_category(case.category),
        category=case.category,
        language=case.language,
        priority=case.priority,
        escalation_level=case.escalation_level or 0,
        tier=case.tier,
    )


# What a transaction already knows, in ``Session.info`` (one session per transaction):
# the teams it holds the advisory lock of, and the owning team read per category.
_LOCKED_TEAMS = "routing.locked_teams"
_OWNING_TEAMS = "routing.owning_teams"
# ... and the agents of each team it placed cases with (the ranking's input), kept true by
# its own claims and dropped by any other change of agents it makes.
_TEAM_AGENTS = "routing.team_agents"


def _lock_key(team: str) -> int:
    digest = hashlib.blake2b(f"routing-team:{team}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _is_lock_conflict(exc: DBAPIError) -> bool:
    # 40P01 deadlock detected, 40001 serialization failure, 55P03 lock not available.
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return str(code or "").startswith(("40", "55P03"))


class AssignmentRepository:
    def __init__(self, session: AsyncSession):
        self.session = session
        self.is_postgres = session.get_bind().dialect.name == "postgresql"

    async def _execute(self, statement: Any, params: dict[str, Any] | None = None) -> Any:
        try:
            return await self.session.execute(statement, params)
        except DBAPIError as exc:
            if _is_lock_conflict(exc):
                raise TransientError(f"lock conflict, retry: {exc.orig!r}") from exc
            raise

    # -- locks and counters

    async def lock_teams(self, teams: Iterable[str | None]) -> None:
        """Serialise queue and load changes per team (no-op on SQLite: one writer). A
        transaction-level lock is held until commit, so each team is locked once per
        transaction (a consumer's batch places many cases of one team)."""
        if not self.is_postgres:
            return
        locked: set[str] = self.session.info.setdefault(_LOCKED_TEAMS, set())
        for team in sorted({t for t in teams if t} - locked):
            await self._execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(team)}
            )
            locked.add(team)

    async def claim(self, agent_id: str, *, at: datetime) -> bool:
        """One more open case for ``agent_id`` if online and under capacity, atomically."""
        result = await self._execute(
            update(Agent)
            .where(
                Agent.id == agent_id,
                Agent.open_load < Agent.capacity,
                Agent.availability == "online",
            )
            .values(open_load=Agent.open_load + 1, last_assigned_at=at)
            .execution_options(synchronize_session=False)
        )
        claimed = bool(result.rowcount)
        if claimed:
            self._count_claim(agent_id, at=at)
        else:  # full or offline since the team's agents were read: read them again
            self._forget_agents()
        return claimed

    def _count_claim(self, agent_id: str, *, at: datetime) -> None:
        teams: dict[str, list[AgentSnapshot]] = self.session.info.get(_TEAM_AGENTS, {})
        for team, agents in teams.items():
            teams[team] = [
                dataclasses.replace(a, load=a.load + 1, last_assigned_at=at)
                if a.agent_id == agent_id
                else a
                for a in agents
            ]

    def _forget_agents(self) -> None:
        self.session.info.pop(_TEAM_AGENTS, None)

    async def release(self, agent_id: str) -> None:
        self._forget_agents()
        await self._execute(
            update(Agent)
            .where(Agent.id == agent_id, Agent.open_load > 0)
            .values(open_load=Agent.open_load - 1)
            .execution_options(synchronize_session=False)
        )

    async def recount(self) -> list[tuple[str, int, int]]:
        """Set every agent's load to the number of their active cases; returns the agents
        whose counter was wrong as ``(id, counter, counted)``."""
        # Agents first (row locks, in id order): a claim or release in flight either
        # committed before the count or waits until this transaction commits.
        self._forget_agents()
        agents = await self.agents(for_update=True)
        result = await self.session.execute(
            select(Case.assignee, func.count())
            .where(Case.assignee.is_not(None), Case.status.in_(sorted(ACTIVE)))
            .group_by(Case.assignee)
        )
        counted: dict[str | None, int] = {assignee: int(n) for assignee, n in result.all()}
        fixed = []
        for agent in agents:
            actual = int(counted.get(agent.id, 0))
            if agent.open_load != actual:
                fixed.append((agent.id, agent.open_load, actual))
                agent.open_load = actual
        await self.session.flush()
        return fixed

    # -- agents

    async def agent(self, agent_id: str) -> Agent | None:
        """The agent's row as committed now (a staff command may change it next)."""
        self._forget_agents()
        return await self._agent_row(agent_id)

    async def _agent_row(self, agent_id: str) -> Agent | None:
        return (
            await self.session.scalars(
                select(Agent).where(Agent.id == agent_id).execution_options(populate_existing=True)
            )
        ).one_or_none()

    async def agents(
        self, *, team: str | None = None, for_update: bool = False, limit: int = 10_000
    ) -> list[Agent]:
        query = select(Agent).order_by(Agent.id).limit(limit)
        if team is not None:
            query = query.where(Agent.team == team)
        if for_update:
            query = query.with_for_update()
        return list(await self.session.scalars(query.execution_options(populate_existing=True)))

    async def snapshots(self, team: str) -> list[AgentSnapshot]:
        """The team's agents as the ranking sees them: read once per team and transaction
        (a consumer's batch places many cases with one team; the team lock keeps other
        transactions' claims out meanwhile), then kept true by this transaction's claims.
        An agent gone offline or full elsewhere is caught by the claim's own check."""
        known: dict[str, list[AgentSnapshot]] = self.session.info.setdefault(_TEAM_AGENTS, {})
        if team not in known:
            known[team] = [snapshot_of(a) for a in await self.agents(team=team)]
        return list(known[team])

    async def upsert_agents(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or update agents; only the keys a row names are overwritten (the load
        is never: it is the engine's counter)."""
        self._forget_agents()
        insert = dialect_insert(self.session)
        for row in rows:
            values = {**row, "updated_at": utcnow()}
            statement = insert(Agent).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=[Agent.id],
                set_={k: statement.excluded[k] for k in values if k != "id"},
            )
            await self._execute(statement)

    # -- teams and ownership

    async def owning_team(self, category: str) -> str:
        """The team owning ``category``; the built-in table for categories nobody claimed.
        Read once per category and transaction: a consumer's batch places many cases, and
        the admin's ownership changes commit in transactions of their own."""
        known: dict[str, str | None] = self.session.info.setdefault(_OWNING_TEAMS, {})
        if category not in known:
            known[category] = await self.session.scalar(
                select(TeamCategory.team).where(TeamCategory.category == category)
            )
        return known[category] or team_for_category(category)

    async def team(self, team: str) -> Team | None:
        """The team's row; None for a team nobody created (a built-in owner or an agent's
        team never put through the admin API)."""
        return await self.session.get(Team, team)

    async def team_exists(self, team: str) -> bool:
        if team in DEFAULT_TEAM_OWNERSHIP.values():
            return True
        found = await self.session.scalar(select(Team.id).where(Team.id == team))
        return (
            found is not None
            or (await self.session.scalar(select(Agent.id).where(Agent.team == team).limit(1)))
            is not None
        )

    async def ensure_teams(self, teams: Collection[str]) -> None:
        insert = dialect_insert(self.session)
        for team in sorted(set(teams)):
            await self._execute(
                insert(Team)
                .values(id=team, name=team, updated_at=utcnow())
                .on_conflict_do_nothing()
            )

    async def put_team(self, *, team: str, name: str, categories: Collection[str]) -> None:
        """Create or rename ``team`` and make it the owner of exactly ``categories``: they
        move from their previous owner, and categories it no longer lists fall back to the
        built-in table."""
        insert = dialect_insert(self.session)
        statement = insert(Team).values(id=team, name=name, updated_at=utcnow())
        await self._execute(
            statement.on_conflict_do_update(
                index_elements=[Team.id],
                set_={"name": statement.excluded.name, "updated_at": statement.excluded.updated_at},
            )
        )
        owned = set(categories)
        await self._execute(
            delete(TeamCategory).where(
                or_(
                    TeamCategory.category.in_(sorted(owned)) if owned else false(),
                    TeamCategory.team == team,
                )
            )
        )
        for category in sorted(owned):
            self.session.add(TeamCategory(category=category, team=team))
        await self.session.flush()
        self.session.info.pop(_OWNING_TEAMS, None)  # what this transaction read is stale

    async def teams(self) -> list[tuple[Team, list[str]]]:
        teams = list(await self.session.scalars(select(Team).order_by(Team.id)))
        owned: dict[str, list[str]] = {}
        for row in await self.session.scalars(select(TeamCategory).order_by(TeamCategory.category)):
            owned.setdefault(row.team, []).append(row.category)
        return [(t, owned.get(t.id, [])) for t in teams]

    # -- account managers

    async def account_manager(self, customer_ref: str) -> AccountManager | None:
        """The customer's account-manager entry, as committed now."""
        return await self.session.get(AccountManager, customer_ref, populate_existing=True)

    async def account_manager_agent(self, customer_ref: str) -> Agent | None:
        """The agent who is the customer's account manager, if any."""
        agent_id = await self.session.scalar(
            select(AccountManager.agent_id).where(AccountManager.customer_ref == customer_ref)
        )
        return None if agent_id is None else await self._agent_row(agent_id)

    async def put_account_manager(self, *, customer_ref: str, agent_id: str) -> None:
        insert = dialect_insert(self.session)
        statement = insert(AccountManager).values(
            customer_ref=customer_ref, agent_id=agent_id, updated_at=utcnow()
        )
        await self._execute(
            statement.on_conflict_do_update(
                index_elements=[AccountManager.customer_ref],
                set_={
                    "agent_id": statement.excluded.agent_id,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )

    async def delete_account_manager(self, customer_ref: str) -> bool:
        result = await self._execute(
            delete(AccountManager).where(AccountManager.customer_ref == customer_ref)
        )
        return bool(result.rowcount)

    async def account_managers(self, *, limit: int = 1000) -> list[AccountManager]:
        query = select(AccountManager).order_by(AccountManager.customer_ref).limit(limit)
        return list(await self.session.scalars(query))

    # -- the queue

    def _queued(self, team: str) -> Any:
        return select(Case).where(
            Case.team == team,
            Case.assignee.is_(None),
            Case.queued_at.is_not(None),
            Case.status.in_(sorted(ACTIVE)),
        )

    async def queue(self, team: str, *, limit: int = 500) -> list[Case]:
        """The team's waiting cases, longest-waiting first."""
        query = self._queued(team).order_by(Case.queued_at, Case.complaint_id).limit(limit)
        return list(await self.session.scalars(query))

    async def queued_for(self, agent: AgentSnapshot) -> list[QueuedCase]:
        """Queued cases of the agent's team that its skills could fit, oldest first (the
        pure rule decides; this only narrows what is read)."""
        query = self._queued(agent.team)
        if agent.categories:
            query = query.where(Case.category.in_(sorted(agent.categories)))
        if agent.languages:
            query = query.where(Case.language.in_(sorted(agent.languages)))
        if agent.level != "senior":
            query = query.where(Case.priority != "P1", Case.escalation_level == 0)
        query = query.order_by(Case.queued_at, Case.complaint_id).limit(QUEUE_SCAN)
        cases = await self.session.scalars(query)
        return [QueuedCase(c.complaint_id, needs_of(c), c.queued_at) for c in cases if c.queued_at]

    async def lock_queued(self, complaint_id: str) -> Case | None:
        """The case, row-locked, if it still waits; a case another transaction holds is
        skipped rather than awaited (that transaction may be about to take it)."""
        query = (
            self._queued_any()
            .where(Case.complaint_id == complaint_id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        result = await self._execute(query)
        return result.scalars().one_or_none()

    def _queued_any(self) -> Any:
        return select(Case).where(
            Case.assignee.is_(None),
            Case.queued_at.is_not(None),
            Case.status.in_(sorted(ACTIVE)),
        )
