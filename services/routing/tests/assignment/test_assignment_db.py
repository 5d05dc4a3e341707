"""The assignment engine's statements on the suite's PostgreSQL: what SQLite (one writer at
a time) cannot show. Two transactions at once: a claim never pushes an agent past capacity
(the conditional UPDATE waits for the row lock and re-checks), the per-team advisory lock
serialises queue changes, a queued case one transaction holds is skipped by another (SKIP
LOCKED), and the ON CONFLICT upserts keep the load and are idempotent.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from complaint_runtime.database import Database, UnitOfWork
from routing.assignment.db import AccountManager, AssignmentRepository, Team
from routing.db import Agent, Case
from routing.main import MIGRATIONS
from sqlalchemy import func, select

NewDatabase = Callable[[Path], Awaitable[Database]]

# Longer than any of these statements takes when it does not wait for a lock.
LOCK_WAIT_S = 5.0
# Long enough for a statement that is not blocked to have finished.
SETTLE_S = 0.3
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


async def _seed_agent(database: Database, agent_id: str, *, capacity: int) -> None:
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        await repo.ensure_teams(["billing"])
        await repo.upsert_agents(
            [{"id": agent_id, "team": "billing", "level": "senior", "capacity": capacity}]
        )


async def _agent(database: Database, agent_id: str) -> Agent:
    async with database.sessions() as session:
        agent = await AssignmentRepository(session).agent(agent_id)
    assert agent is not None
    return agent


async def _queued_case(database: Database) -> str:
    complaint_id = str(uuid.uuid4())
    async with database.unit_of_work() as uow:
        uow.session.add(
            Case(
                complaint_id=complaint_id,
                reference="C-20261129-000001",
                status="triaged",
                channel="web",
                customer_ref="ref-1",
                tier="standard",
                language="zh-CN",
                category="billing_refund",
                subcategory=None,
                confidence=0.9,
                priority="P3",
                emotion="blue",
                rules_fired=[],
                team="billing",
                assignee=None,
                owner=None,
                received_at=NOW,
                updated_at=NOW,
                queued_at=NOW,
            )
        )
    return complaint_id


async def _open(database: Database) -> UnitOfWork:
    uow = database.unit_of_work()
    await uow.__aenter__()
    return uow


# -- the claim


async def test_a_waiting_claim_rechecks_capacity_after_the_first_commits(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _seed_agent(database, "li", capacity=1)
    first = await _open(database)
    second = await _open(database)
    try:
        assert await AssignmentRepository(first.session).claim("li", at=NOW)
        waiting = asyncio.create_task(AssignmentRepository(second.session).claim("li", at=NOW))
        await asyncio.sleep(SETTLE_S)
        assert not waiting.done()  # the row lock of the first claim holds it
        await first.__aexit__(None, None, None)
        # It read load 0 before; after the first commit the agent is full.
        assert await asyncio.wait_for(waiting, LOCK_WAIT_S) is False
    finally:
        await second.__aexit__(None, None, None)
    assert (await _agent(database, "li")).open_load == 1


async def test_concurrent_claims_never_push_an_agent_past_capacity(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _seed_agent(database, "li", capacity=3)

    async def claim_and_commit() -> bool:
        async with database.unit_of_work() as uow:
            claimed = await AssignmentRepository(uow.session).claim("li", at=NOW)
            await asyncio.sleep(0.05)  # keep the transaction open while the others try
            return claimed

    results = await asyncio.wait_for(
        asyncio.gather(*(claim_and_commit() for _ in range(8))), LOCK_WAIT_S * 4
    )
    assert sum(results) == 3
    assert (await _agent(database, "li")).open_load == 3


# -- the team lock


async def test_the_team_lock_serialises_queue_changes_until_commit(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    first = await _open(database)
    second = await _open(database)
    other = await _open(database)
    try:
        await AssignmentRepository(first.session).lock_teams(["billing", None])
        waiting = asyncio.create_task(AssignmentRepository(second.session).lock_teams(["billing"]))
        # Another team's lock is independent.
        await asyncio.wait_for(
            AssignmentRepository(other.session).lock_teams(["quality"]), LOCK_WAIT_S
        )
        await asyncio.sleep(SETTLE_S)
        assert not waiting.done()
        await first.__aexit__(None, None, None)
        await asyncio.wait_for(waiting, LOCK_WAIT_S)
    finally:
        await second.__aexit__(None, None, None)
        await other.__aexit__(None, None, None)


# -- the queue: SKIP LOCKED


async def test_a_queued_case_held_by_one_transaction_is_skipped_by_another(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    complaint_id = await _queued_case(database)
    first = await _open(database)
    second = await _open(database)
    try:
        held = await AssignmentRepository(first.session).lock_queued(complaint_id)
        assert held is not None
        skipped = await asyncio.wait_for(
            AssignmentRepository(second.session).lock_queued(complaint_id), LOCK_WAIT_S
        )
        assert skipped is None
        await first.__aexit__(None, None, None)
        again = await asyncio.wait_for(
            AssignmentRepository(second.session).lock_queued(complaint_id), LOCK_WAIT_S
        )
        assert again is not None  # released by the commit: still waiting, free to take
    finally:
        await second.__aexit__(None, None, None)


# -- ON CONFLICT upserts


async def test_upserting_an_agent_keeps_its_load_and_unlisted_fields(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _seed_agent(database, "li", capacity=5)
    async with database.unit_of_work() as uow:
        repo = AssignmentRepository(uow.session)
        await repo.upsert_agents(
            [
                {
                    "id": "li",
                    "team": "billing",
                    "level": "senior",
                    "capacity": 5,
                    "categories": ["billing_refund"],
                }
            ]
        )
        assert await repo.claim("li", at=NOW)
        assert await repo.claim("li", at=NOW)
    async with database.unit_of_work() as uow:
        await AssignmentRepository(uow.session).upsert_agents(
            [{"id": "li", "team": "billing", "level": "junior", "capacity": 7}]
        )
    agent = await _agent(database, "li")
    assert (agent.level, agent.capacity, agent.open_load) == ("junior", 7, 2)
    assert agent.categories == ["billing_refund"]  # not named by the second upsert: kept


async def test_ensure_teams_and_account_managers_are_idempotent(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _seed_agent(database, "li", capacity=5)
    await _seed_agent(database, "wang", capacity=5)
    for agent_id in ("li", "li", "wang"):
        async with database.unit_of_work() as uow:
            repo = AssignmentRepository(uow.session)
            await repo.ensure_teams(["billing", "quality"])
            await repo.put_account_manager(customer_ref="ref-vip", agent_id=agent_id)
    async with database.sessions() as session:
        teams = await session.scalar(
            select(func.count()).select_from(Team).where(Team.id.in_(["billing", "quality"]))
        )
        managers: list[Any] = list(await session.scalars(select(AccountManager)))
    assert teams == 2
    assert [(m.customer_ref, m.agent_id) for m in managers] == [("ref-vip", "wang")]


async def test_concurrent_ensure_teams_do_not_conflict(postgres_database: NewDatabase) -> None:
    database = await postgres_database(MIGRATIONS)
    team = "key-accounts"  # not one of the teams the migrations seed

    async def ensure() -> None:
        async with database.unit_of_work() as uow:
            await AssignmentRepository(uow.session).ensure_teams([team])
            await asyncio.sleep(0.05)

    await asyncio.wait_for(asyncio.gather(*(ensure() for _ in range(4))), LOCK_WAIT_S * 2)
    async with database.sessions() as session:
        count = select(func.count()).select_from(Team).where(Team.id == team)
        assert await session.scalar(count) == 1
