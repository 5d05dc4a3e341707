"""Pruning processed-event ids: those applied before the horizon go, in bounded batches, and
the recent ones stay (db tier: PostgreSQL, where replicas prune side by side); the horizon
must outlive every redelivery; every service runs the job."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from complaint_devinfra.postgres import PostgresEndpoint
from complaint_runtime.database import Database, OutboxMessage, ProcessedEvent
from complaint_runtime.pruning import processed_events_pruner, prune_processed_events
from complaint_runtime.service import ServiceRuntime
from complaint_runtime.settings import ServiceSettings
from complaint_runtime.testing import sqlite_database
from pydantic import ValidationError
from sqlalchemy import Table, select

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TABLES = [OutboxMessage.__table__, ProcessedEvent.__table__]


@pytest.fixture
async def database(local_postgres: PostgresEndpoint) -> AsyncIterator[Database]:
    """A fresh database holding the runtime's own two tables."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    db = Database(await local_postgres.create_database_async(name), pool_size=4)
    async with db.engine.begin() as connection:
        tables = [t for t in TABLES if isinstance(t, Table)]
        await connection.run_sync(lambda sync: OutboxMessage.metadata.create_all(sync, tables))
    yield db
    await db.dispose()
    await local_postgres.drop_database_async(name)


async def _insert(database: Database, ages: dict[str, timedelta]) -> None:
    async with database.sessions() as session, session.begin():
        for event_id, age in ages.items():
            session.add(
                ProcessedEvent(
                    consumer="routing", event_id=event_id, outcome="applied", processed_at=NOW - age
                )
            )


async def _ids(database: Database) -> set[str]:
    async with database.sessions() as session:
        return set(await session.scalars(select(ProcessedEvent.event_id)))


async def test_ids_applied_before_the_horizon_go_recent_ones_stay(database: Database) -> None:
    await _insert(
        database,
        {
            "ancient": timedelta(days=400),
            "just-expired": timedelta(days=30, seconds=1),
            "at-the-horizon": timedelta(days=30),
            "recent": timedelta(days=3),
            "topic:0:41": timedelta(days=31),  # dead-lettered by position
        },
    )
    settings = ServiceSettings(processed_event_retention_days=30, prune_batch_size=2)
    loop = processed_events_pruner(database, settings, clock=lambda: NOW)

    assert await loop._round() is True  # a full batch: more may be there
    assert len(await _ids(database)) == 3
    assert await loop._round() is False
    assert await _ids(database) == {"at-the-horizon", "recent"}


async def test_a_batch_deletes_at_most_its_limit(database: Database) -> None:
    await _insert(database, {f"old-{n}": timedelta(days=60) for n in range(7)})
    assert await prune_processed_events(database, applied_before=NOW, limit=5) == 5
    assert await prune_processed_events(database, applied_before=NOW, limit=5) == 2
    assert await prune_processed_events(database, applied_before=NOW, limit=5) == 0


async def test_rows_another_transaction_holds_are_skipped_not_waited_for(
    database: Database,
) -> None:
    await _insert(database, {"held": timedelta(days=60), "free": timedelta(days=60)})
    async with database.sessions() as other, other.begin():
        await other.execute(
            select(ProcessedEvent).where(ProcessedEvent.event_id == "held").with_for_update()
        )
        assert await prune_processed_events(database, applied_before=NOW, limit=10) == 1
    assert await _ids(database) == {"held"}


def test_the_horizon_must_outlive_every_redelivery() -> None:
    assert ServiceSettings().processed_event_retention_days == 30
    with pytest.raises(ValidationError, match="PROCESSED_EVENT_RETENTION_DAYS"):
        # Kafka keeps records 20 days (plus a week's segment): 25 days of ids is too short.
        ServiceSettings(
            kafka_event_retention_ms=20 * 24 * 3600 * 1000, processed_event_retention_days=25
        )
    with pytest.raises(ValidationError):
        ServiceSettings(processed_event_retention_days=7)


def test_every_service_runs_the_pruning_job(tmp_path: Path) -> None:
    settings = ServiceSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}/s.db")
    runtime = ServiceRuntime(settings=settings, migrations=tmp_path, produces=[])
    assert "prune-processed-events" in [name for name, _ in runtime._background]


async def test_pruning_works_on_sqlite_too(tmp_path: Path) -> None:
    """A laptop's default database: the same statement, without the row locks."""
    database = await sqlite_database(tmp_path / "p.db")
    try:
        await _insert(database, {"old": timedelta(days=60), "new": timedelta(days=1)})
        assert (
            await prune_processed_events(database, applied_before=NOW - timedelta(30), limit=9) == 1
        )
        assert await _ids(database) == {"new"}
    finally:
        await database.dispose()
