"""sla-watch's tests get a database migrated by the service's own Alembic scripts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from sla_watch.main import MIGRATIONS


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path}/sla.db"
    await upgrade_to_head(MIGRATIONS, url)
    db = Database(url)
    yield db
    await db.dispose()
