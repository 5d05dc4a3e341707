"""sla-watch's tests get a database migrated by the service's own Alembic scripts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from complaint_runtime.database import Database
from fastapi import FastAPI
from sla_watch.config import SlaSettings
from sla_watch.main import MIGRATIONS, create_app

ADMIN_SECRET = "test-secret-of-at-least-32-bytes-long"
NewMigratedSqlite = Callable[[Path], Awaitable[str]]  # the root conftest's migrated_sqlite


@pytest.fixture
async def database(migrated_sqlite: NewMigratedSqlite) -> AsyncIterator[Database]:
    db = Database(await migrated_sqlite(MIGRATIONS))
    yield db
    await db.dispose()


@pytest.fixture
async def admin_client(migrated_sqlite: NewMigratedSqlite) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the whole app on a migrated SQLite database; tokens signed with
    ``ADMIN_SECRET`` (the admin API tests' ``SECRET``)."""
    url = await migrated_sqlite(MIGRATIONS)
    app: FastAPI = create_app(
        SlaSettings(
            database_url=url,
            auth_jwt_secret=ADMIN_SECRET,
            migrate_on_start=False,
            log_json=False,
            sla_ics_max_bytes=20_000,
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http
    await app.state.runtime.database.dispose()
