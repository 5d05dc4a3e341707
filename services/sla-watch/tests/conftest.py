"""sla-watch's tests get a database migrated by the service's own Alembic scripts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from fastapi import FastAPI
from sla_watch.config import SlaSettings
from sla_watch.main import MIGRATIONS, create_app

ADMIN_SECRET = "test-secret-of-at-least-32-bytes-long"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path}/sla.db"
    await upgrade_to_head(MIGRATIONS, url)
    db = Database(url)
    yield db
    await db.dispose()


@pytest.fixture
async def admin_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the whole app on a migrated SQLite database; tokens signed with
    ``ADMIN_SECRET`` (the admin API tests' ``SECRET``)."""
    url = f"sqlite+aiosqlite:///{tmp_path}/admin.db"
    await upgrade_to_head(MIGRATIONS, url)
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
