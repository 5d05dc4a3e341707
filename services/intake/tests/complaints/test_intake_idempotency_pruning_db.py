"""Idempotency answers past IDEMPOTENCY_KEY_RETENTION_H are pruned, in bounded batches, on
the suite's real PostgreSQL; younger ones (front ends' and the pages') stay and replay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from complaint_runtime.database import Database
from intake.complaints.db import IdempotencyRecord, SubmissionRepository
from intake.complaints.pruning import idempotency_keys_pruner, prune_idempotency_keys
from intake.config import IntakeSettings
from intake.main import MIGRATIONS
from sqlalchemy import select

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


async def _insert(database: Database, ages: dict[tuple[int, str], timedelta]) -> None:
    async with database.sessions() as session, session.begin():
        for (api_key_id, key), age in ages.items():
            session.add(
                IdempotencyRecord(
                    api_key_id=api_key_id,
                    key=key,
                    request_hash="h",
                    status_code=201,
                    response={"id": key},
                    created_at=NOW - age,
                )
            )


async def _keys(database: Database) -> set[str]:
    async with database.sessions() as session:
        return set(await session.scalars(select(IdempotencyRecord.key)))


async def test_answers_past_their_validity_go_younger_ones_stay(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _insert(
        database,
        {
            (1, "a-month-old"): timedelta(days=30),
            (1, "just-expired"): timedelta(hours=168, seconds=1),
            (0, "page:message:c1:old"): timedelta(days=8),  # a customer page's submission
            (1, "at-the-limit"): timedelta(hours=168),
            (2, "an-hour-old"): timedelta(hours=1),
            (0, "page:message:c1:new"): timedelta(minutes=5),
        },
    )
    settings = IntakeSettings(prune_batch_size=2)
    assert settings.idempotency_key_retention_h == 168  # the documented 7 days
    loop = idempotency_keys_pruner(database, settings, clock=lambda: NOW)

    assert await loop._round() is True  # a full batch: more may be there
    assert await loop._round() is False
    assert await _keys(database) == {"at-the-limit", "an-hour-old", "page:message:c1:new"}
    async with database.sessions() as session:  # what is kept still replays
        kept = await SubmissionRepository(session).idempotency_record(2, "an-hour-old")
    assert kept is not None
    assert kept.response == {"id": "an-hour-old"}


async def test_a_batch_deletes_at_most_its_limit(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _insert(database, {(1, f"old-{n}"): timedelta(days=9) for n in range(5)})
    assert await prune_idempotency_keys(database, created_before=NOW, limit=3) == 3
    assert await prune_idempotency_keys(database, created_before=NOW, limit=3) == 2
    assert await _keys(database) == set()
