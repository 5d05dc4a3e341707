"""Admin changes on the suite's PostgreSQL: each bumps the config version first, and that
row's lock serializes them, so two changes that are each valid alone but not together (the
two policies matching every P2 complaint deleted at once) cannot both pass validation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from complaint_runtime.database import Database
from complaint_runtime.errors import InvalidInput
from sla_watch.main import MIGRATIONS
from sla_watch.policies import service
from sla_watch.policies.db import PolicyRepository
from sla_watch.policies.domain.policy import validate_policies

NewDatabase = Callable[[Path], Awaitable[Database]]

# Longer than any of these statements takes when it does not wait for a lock.
LOCK_WAIT_S = 5.0
# Long enough for a statement that is not blocked to have finished.
SETTLE_S = 0.3


async def test_a_change_waits_for_the_one_holding_the_version_row(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    async with database.unit_of_work() as first:
        assert await PolicyRepository(first.session).bump_version() == 2
        second = asyncio.create_task(
            service.reorder_policies(
                database=database,
                policy_ids=["default-P1", "default-P2", "default-P3", "default-P4"],
                actor="admin-1",
            )
        )
        await asyncio.sleep(SETTLE_S)
        assert not second.done()  # waits on the version row
    change = await asyncio.wait_for(second, LOCK_WAIT_S)
    async with database.sessions() as session:
        assert await PolicyRepository(session).version() == 3  # after the first one's bump
    assert change.recompute_job_id > 0


async def test_two_changes_valid_alone_cannot_both_pass(postgres_database: NewDatabase) -> None:
    database = await postgres_database(MIGRATIONS)
    await service.create_policy(
        database=database,
        policy=service.NewPolicy(
            policy_id="p2-extra",
            name="another P2 policy",
            priority="P2",
            calendar_id="cn-mainland",
            first_response_s=3600,
            resolution_s=27_000,
        ),
        actor="admin-1",
    )
    async with database.unit_of_work() as holder:
        # Hold the version row so that both changes start before either has decided.
        await PolicyRepository(holder.session).bump_version()
        changes = [
            asyncio.create_task(
                service.delete_policy(database=database, policy_id=policy_id, actor="admin-1")
            )
            for policy_id in ("default-P2", "p2-extra")
        ]
        await asyncio.sleep(SETTLE_S)
        assert not any(change.done() for change in changes)
    results = await asyncio.wait_for(asyncio.gather(*changes, return_exceptions=True), LOCK_WAIT_S)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1
    with pytest.raises(InvalidInput, match="matches priority P2"):
        raise refused[0]
    async with database.sessions() as session:
        left = await PolicyRepository(session).policies()
    validate_policies(left)  # P2 still has a policy matching every complaint
    assert len([p for p in left if p.priority == "P2"]) == 1
