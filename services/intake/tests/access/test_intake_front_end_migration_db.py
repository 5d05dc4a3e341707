"""Migration 0007 over existing keys, on PostgreSQL and SQLite: a key made before front ends
were named is its label's front end with no scope and keeps working; complaints made
before have no front end; the migration reverts."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from complaint_devinfra.postgres import PostgresEndpoint
from complaint_runtime.database import Database
from complaint_runtime.migrations import alembic_config
from intake.access.domain.callers import hash_api_key
from intake.access.service import ApiKeyCache
from intake.main import MIGRATIONS
from sqlalchemy import inspect, text

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


async def _migrate_over_old_keys(url: str) -> dict[str, Any]:
    config = alembic_config(MIGRATIONS, url)
    await asyncio.to_thread(command.upgrade, config, "0006")
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            for key, label, revoked in (("old-key", "call centre", None), ("gone", "web", T0)):
                await connection.execute(
                    text(
                        "INSERT INTO api_keys (key_hash, label, channels, created_at, revoked_at)"
                        " VALUES (:hash, :label, '[\"*\"]', :at, :revoked)"
                    ),
                    {"hash": hash_api_key(key), "label": label, "at": T0, "revoked": revoked},
                )
        await asyncio.to_thread(command.upgrade, config, "0007")
        async with database.engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT label, front_end, scopes FROM api_keys ORDER BY id")
                )
            ).all()
            columns = await connection.run_sync(
                lambda sync: {c["name"]: c for c in inspect(sync).get_columns("complaints")}
            )
        found = await ApiKeyCache(ttl_s=0).lookup(database, hash_api_key("old-key"))
        gone = await ApiKeyCache(ttl_s=0).lookup(database, hash_api_key("gone"))
    finally:
        await database.dispose()
    return {
        "rows": [(label, front_end, scopes) for label, front_end, scopes in rows],
        "complaint_front_end_nullable": columns["front_end"]["nullable"],
        "found": found,
        "gone": gone,
    }


def _check(migrated: dict[str, Any]) -> None:
    # JSON comes back parsed from PostgreSQL, as text from SQLite through a raw query.
    scopes = [s if isinstance(s, list) else json.loads(s) for *_, s in migrated["rows"]]
    assert [(label, front_end) for label, front_end, _ in migrated["rows"]] == [
        ("call centre", "call centre"),
        ("web", "web"),
    ]
    assert scopes == [[], []]
    assert migrated["complaint_front_end_nullable"] is True
    found = migrated["found"]
    assert found is not None
    assert (found.name, found.label, found.scopes) == ("call centre", "call centre", ())
    assert migrated["gone"] is None


async def test_migration_0007_over_existing_keys_on_postgresql(
    local_postgres: PostgresEndpoint,
) -> None:
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = await local_postgres.create_database_async(name)
    try:
        _check(await _migrate_over_old_keys(url))
    finally:
        await local_postgres.drop_database_async(name)


async def test_migration_0007_over_existing_keys_on_sqlite_and_reverts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    _check(await _migrate_over_old_keys(url))
    config = alembic_config(MIGRATIONS, url)
    await asyncio.to_thread(command.downgrade, config, "0006")
    await asyncio.to_thread(command.upgrade, config, "head")
