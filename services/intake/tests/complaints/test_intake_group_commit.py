"""Group commit: concurrent writes share transactions, each answer waits for its commit, and
one failing request does not fail the others."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.testing import sqlite_database
from intake.access.db import ApiKey
from intake.complaints.group_commit import GroupCommitter
from sqlalchemy import event, func, select


@pytest.fixture
async def database(tmp_path: Path) -> Any:
    db = await sqlite_database(tmp_path / "gc.db", "intake")
    yield db
    await db.dispose()


def _add_key(label: str) -> Any:
    async def work(uow: UnitOfWork) -> dict[str, Any]:
        key_hash = hashlib.sha256(label.encode()).hexdigest()
        uow.session.add(ApiKey(key_hash=key_hash, label=label, front_end=label, channels=["*"]))
        return {"label": label}

    return work


async def _count(database: Database) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ApiKey)) or 0)


async def test_concurrent_writes_share_commits_and_all_land(database: Database) -> None:
    commits = 0

    def on_commit(_connection: Any) -> None:
        nonlocal commits
        commits += 1

    event.listen(database.engine.sync_engine, "commit", on_commit)
    writer = GroupCommitter(database, max_batch=50)
    results = await asyncio.gather(*(writer.write(_add_key(f"k{i}")) for i in range(200)))
    assert [r["label"] for r in results] == [f"k{i}" for i in range(200)]
    assert await _count(database) == 200
    assert commits < 200 / 4, f"{commits} commits for 200 writes: no grouping"


async def test_a_failing_request_is_isolated(database: Database) -> None:
    async def broken(uow: UnitOfWork) -> dict[str, Any]:
        uow.session.add(
            ApiKey(key_hash="dup".ljust(64, "0"), label="a", front_end="a", channels=["*"])
        )
        uow.session.add(
            ApiKey(key_hash="dup".ljust(64, "0"), label="b", front_end="b", channels=["*"])
        )
        return {}

    writer = GroupCommitter(database)
    outcomes = await asyncio.gather(
        writer.write(_add_key("ok1")),
        writer.write(broken),
        writer.write(_add_key("ok2")),
        return_exceptions=True,
    )
    assert outcomes[0] == {"label": "ok1"}
    assert outcomes[2] == {"label": "ok2"}
    assert isinstance(outcomes[1], Exception)
    assert await _count(database) == 2


async def test_each_write_keeps_its_own_correlation_id(database: Database) -> None:
    """Writes share a transaction but not a causation: each runs under its caller's
    correlation id, not that of the request that started the writer task."""
    from complaint_runtime.context import caused_by, current_causation

    committer = GroupCommitter(database)

    def _seen() -> Any:
        async def work(uow: UnitOfWork) -> dict[str, Any]:
            await asyncio.sleep(0)
            return {"correlation_id": current_causation().correlation_id}

        return work

    async def request(correlation_id: str) -> dict[str, Any]:
        with caused_by(correlation_id=correlation_id, causation_id=None):
            return await committer.write(_seen())

    ids = [f"request-{n}" for n in range(20)]
    answers = await asyncio.gather(*(request(i) for i in ids))
    assert [a["correlation_id"] for a in answers] == ids
